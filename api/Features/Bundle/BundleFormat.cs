using System.Buffers;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Relabel.Api.Features.Bundle;

/// <summary>
/// The portable bundle (format "relabel-bundle", version 1): a tar archive, gzip-compressed, of line-oriented
/// files (NDJSON: one JSON object per line) and a manifest that lists each file with its SHA-256, size and line
/// count. It holds everything a leaderboard is computed from, and no image pixels:
/// <code>
/// manifest.json                  format, version, created, Relabel version, datasets, files
/// datasets.ndjson                slug, name, description, consensus rule, shift pair, label space, label version
/// accounts.ndjson                the people named by events, models and notes (name, display name; no credentials)
/// sources.ndjson                 the external verdict sources (imported releases, crowd raters, experts)
/// models.ndjson                  slug, display name, kind, description, URLs, parameters, training data, tags, owner
/// guide-notes.ndjson             the labeling guide's notes on the bundle's classes
/// datasets/{slug}/classes.ndjson          class index → wnid (absent when the dataset shares a label space)
/// datasets/{slug}/subsets.ndjson          the subsets admins defined (the built-in ones are implied)
/// datasets/{slug}/images.ndjson           file name, original wnid, and the content hash when the pixels were stored
/// datasets/{slug}/reference-labels.ndjson ReaL-style reference multi-labels (absent when the dataset has none)
/// datasets/{slug}/image-sets.ndjson       named image sets (imagenet-m, humans-labeled, …)
/// datasets/{slug}/label-versions.ndjson   every label version: when, what changed, under which rule
/// datasets/{slug}/review-items.ndjson     every (image, label) question, its control mark and its state
/// datasets/{slug}/verdicts.ndjson         every verdict event, oldest first: author, value, note, time spent, version
/// datasets/{slug}/flags.ndjson            every problematic-flag event, oldest first
/// datasets/{slug}/prediction-sets.ndjson  each model's current predictions: the file, k, rows
/// datasets/{slug}/predictions/{model}.ndjson  the rows, as accepted by PUT predictions (image, wnids, scores)
/// </code>
/// </summary>
public static class BundleFormat
{
    public const string Name = "relabel-bundle";
    public const int Version = 1;
    public const string ContentType = "application/gzip";

    public const string Manifest = "manifest.json";
    public const string Datasets = "datasets.ndjson";
    public const string Accounts = "accounts.ndjson";
    public const string Sources = "sources.ndjson";
    public const string Models = "models.ndjson";
    public const string GuideNotes = "guide-notes.ndjson";

    public const string Classes = "classes.ndjson";
    public const string Subsets = "subsets.ndjson";
    public const string Images = "images.ndjson";
    public const string ReferenceLabels = "reference-labels.ndjson";
    public const string ImageSets = "image-sets.ndjson";
    public const string LabelVersions = "label-versions.ndjson";
    public const string ReviewItems = "review-items.ndjson";
    public const string Verdicts = "verdicts.ndjson";
    public const string Flags = "flags.ndjson";
    public const string PredictionSets = "prediction-sets.ndjson";

    /// <summary>The files every dataset of a bundle has (classes and reference labels may be absent).</summary>
    public static readonly string[] RequiredDatasetFiles = [Subsets, Images, ImageSets, LabelVersions, ReviewItems, Verdicts, Flags, PredictionSets];

    public static string DatasetFile(string slug, string file) => $"datasets/{slug}/{file}";

    public static string PredictionsFile(string slug, string model) => $"datasets/{slug}/predictions/{model}.ndjson";

    /// <summary>camelCase, nulls left out, text kept readable (the files are not HTML), and only text PostgreSQL can store.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new StorableStringConverter() },
    };

    public static string RelabelVersion { get; } =
        typeof(BundleFormat).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// What a bundle holds, independent of when it was made: SHA-256 over every file's path and SHA-256 except the
    /// manifest's, in path order. Importing a bundle with the same content checksum again is a no-op.
    /// </summary>
    public static string ContentChecksum(IEnumerable<BundleFileEntry> files)
    {
        var text = string.Concat(files.Where(f => f.Path != Manifest).OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => $"{f.Path}\t{f.Sha256}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Timestamps are stored with microseconds, as PostgreSQL keeps them, so that equal events compare equal.</summary>
    public static DateTime Microseconds(DateTimeOffset time) => new((time.UtcTicks + 5) / 10 * 10, DateTimeKind.Utc);
}

/// <summary>
/// Reads strings as usual but refuses what a text column cannot hold (NUL, a lone UTF-16 surrogate), so that such a
/// line is a fault with its line number rather than a failed write later.
/// </summary>
public sealed class StorableStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is null) return null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') throw new JsonException("A string holds a NUL character, which cannot be stored.");
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) throw new JsonException("A string holds a lone UTF-16 surrogate, which cannot be stored.");
        }
        return text;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}

public sealed record BundleManifest
{
    public string? Format { get; init; }
    public int? Version { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public string? RelabelVersion { get; init; }
    public string[]? Datasets { get; init; }
    public BundleFileEntry[]? Files { get; init; }
}

/// <summary>A file of the bundle: its path in the archive, SHA-256 (hex), size in bytes and number of lines.</summary>
public sealed record BundleFileEntry
{
    public string? Path { get; init; }
    public string? Sha256 { get; init; }
    public long? Bytes { get; init; }
    public long? Rows { get; init; }
}

// The lines of the files. Every property is optional when read, so that a missing one is reported with its line.

public sealed record BundleDatasetLine
{
    public string? Slug { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    /// <summary>Another dataset of the bundle whose classes this one shares (it then has no classes file).</summary>
    public string? LabelSpaceOf { get; init; }
    /// <summary>The dataset this one is a distribution shift of (in the bundle, or already in the target).</summary>
    public string? ShiftOf { get; init; }
    public string? ConsensusRule { get; init; }
    public bool? ImagesPublic { get; init; }
    public long? LabelVersion { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}

public sealed record BundleAccountLine
{
    public string? Name { get; init; }
    public string? DisplayName { get; init; }
}

public sealed record BundleSourceLine
{
    public string? Name { get; init; }
    public string? Kind { get; init; }
    public string? Description { get; init; }
}

public sealed record BundleModelLine
{
    public string? Slug { get; init; }
    public string? DisplayName { get; init; }
    public string? Kind { get; init; }
    public string? Description { get; init; }
    public string? PaperUrl { get; init; }
    public string? CodeUrl { get; init; }
    public long? ParameterCount { get; init; }
    public string? TrainingData { get; init; }
    public string[]? Tags { get; init; }
    public string? Owner { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
}

public sealed record BundleGuideNoteLine
{
    public string? Wnid { get; init; }
    public string? OtherWnid { get; init; }
    public string? Body { get; init; }
    public string? Author { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
}

public sealed record BundleClassLine
{
    public int? Index { get; init; }
    public string? Wnid { get; init; }
}

public sealed record BundleSubsetLine
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? IncludeRoot { get; init; }
    public string? ExcludeRoot { get; init; }
    public string[]? Wnids { get; init; }
}

public sealed record BundleImageLine
{
    public string? File { get; init; }
    public string? Wnid { get; init; }
    /// <summary>The SHA-256 of the image bytes, when the source had them: a reference, never the pixels.</summary>
    public string? Sha256 { get; init; }
    public string? MediaType { get; init; }
    public long? Bytes { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
}

public sealed record BundleReferenceLabelLine
{
    public string? Image { get; init; }
    public string[]? Labels { get; init; }
}

public sealed record BundleImageSetLine
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string[]? Images { get; init; }
}

public sealed record BundleLabelVersionLine
{
    public long? Version { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public int? ChangedItems { get; init; }
    public int? ChangedFlags { get; init; }
    public string? ConsensusRule { get; init; }
}

public sealed record BundleReviewItemLine
{
    public string? Image { get; init; }
    public string? Wnid { get; init; }
    public bool? Control { get; init; }
    public string? State { get; init; }
}

/// <summary>A verdict event; its author is a reviewer (an account) or a source, never both.</summary>
public sealed record BundleVerdictLine
{
    public string? Image { get; init; }
    public string? Wnid { get; init; }
    public string? Reviewer { get; init; }
    public string? Source { get; init; }
    public string? Verdict { get; init; }
    public bool? Adjudication { get; init; }
    public string? Note { get; init; }
    public float? SecondsSpent { get; init; }
    public long? LabelVersion { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}

public sealed record BundleFlagLine
{
    public string? Image { get; init; }
    public string? Reviewer { get; init; }
    public string? Source { get; init; }
    public bool? Problematic { get; init; }
    public string? Reason { get; init; }
    public string? Note { get; init; }
    public long? LabelVersion { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}

public sealed record BundlePredictionSetLine
{
    public string? Model { get; init; }
    public string? File { get; init; }
    public int? K { get; init; }
    public long? Rows { get; init; }
}

/// <summary>A predictions line, the NDJSON row of PUT predictions.</summary>
public sealed record BundlePredictionLine
{
    public string? Image { get; init; }
    public string[]? Labels { get; init; }
    public float[]? Scores { get; init; }
}

/// <summary>Writes one NDJSON file of a bundle to disk, hashing and counting as it goes.</summary>
public sealed class BundleFileWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;
    private long _rows;
    private long _bytes;

    public BundleFileWriter(string path, string diskPath)
    {
        Path = path;
        DiskPath = diskPath;
        _file = new FileStream(diskPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = BundleFormat.Json.Encoder, SkipValidation = true });
    }

    /// <summary>The path in the archive.</summary>
    public string Path { get; }

    public string DiskPath { get; }

    public void Write<T>(T line)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        JsonSerializer.Serialize(_json, line, BundleFormat.Json);
        _json.Flush();
        _buffer.Write("\n"u8);
        _hash.AppendData(_buffer.WrittenSpan);
        _file.Write(_buffer.WrittenSpan);
        _bytes += _buffer.WrittenCount;
        _rows++;
    }

    public BundleFileEntry Finish()
    {
        _file.Flush();
        return new BundleFileEntry { Path = Path, Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset()), Bytes = _bytes, Rows = _rows };
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
        _hash.Dispose();
    }
}
