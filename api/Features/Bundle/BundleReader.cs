using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using Relabel.Api.Features.Models;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Bundle;

/// <summary>An author of events: an account (reviewer) or an external source, by its position in the bundle's list.</summary>
public readonly record struct BundleAuthor(bool IsSource, int Index);

public readonly record struct BundleItem(int Image, short Class, bool Control, string State);

public readonly record struct BundleVerdict(
    int Image, short Class, BundleAuthor Author, string Verdict, bool Adjudication, string Note, float? SecondsSpent, long LabelVersion, DateTime CreatedAt);

public readonly record struct BundleFlag(
    int Image, BundleAuthor Author, bool Problematic, string? Reason, string Note, long LabelVersion, DateTime CreatedAt);

public sealed record BundleImage(string File, short Class, string? Sha256, string? MediaType, long? Bytes, int? Width, int? Height);

public sealed record BundleSubset(string Name, string Description, string? IncludeRoot, string? ExcludeRoot, string[]? Wnids, long Line);

public sealed record BundleImageSet(string Name, string Description, int[] Images);

public sealed record BundleLabelVersion(long Version, DateTime CreatedAt, int ChangedItems, int ChangedFlags, string? ConsensusRule);

/// <summary>A model's predictions on a dataset: rows whose ImageId is the image's position in the bundle.</summary>
public sealed record BundlePredictionSet(string Model, int K, List<PredictionRow> Rows);

/// <summary>One dataset of a bundle, checked and resolved to positions (images) and class indices.</summary>
public sealed class BundleDataset
{
    public required BundleDatasetLine Meta { get; init; }
    public required long Line { get; init; }
    public string Slug => Meta.Slug!;
    public string[] Classes { get; set; } = [];
    /// <summary>Where each class came from, for errors about it: file and line.</summary>
    public (string File, long Line)[] ClassLines { get; set; } = [];
    public List<BundleSubset> Subsets { get; } = [];
    public List<BundleImage> Images { get; } = [];
    /// <summary>The line of each image in images.ndjson.</summary>
    public List<long> ImageLines { get; } = [];
    public Dictionary<string, int> ImageIndex { get; } = new(StringComparer.Ordinal);
    /// <summary>Null when the dataset has no reference labels.</summary>
    public List<(int Image, short[] Classes)>? ReferenceLabels { get; set; }
    public List<BundleImageSet> ImageSets { get; } = [];
    public List<BundleLabelVersion> LabelVersions { get; } = [];
    public List<BundleItem> Items { get; } = [];
    public List<BundleVerdict> Verdicts { get; } = [];
    public List<BundleFlag> Flags { get; } = [];
    public List<BundlePredictionSet> Predictions { get; } = [];
}

/// <summary>A bundle as read and checked on its own (before it is compared with the target database).</summary>
public sealed class BundleContent
{
    public required BundleManifest Manifest { get; init; }
    public required string Checksum { get; init; }
    /// <summary>In creation order: a dataset comes after the one it is a shift of and the one whose classes it shares.</summary>
    public List<BundleDataset> Datasets { get; } = [];
    public List<BundleAccountLine> Accounts { get; } = [];
    public List<BundleSourceLine> Sources { get; } = [];
    public List<(BundleModelLine Model, long Line)> Models { get; } = [];
    public List<(BundleGuideNoteLine Note, long Line)> GuideNotes { get; } = [];

    public long Rows => Datasets.Sum(d => (long)d.Images.Count + d.Items.Count + d.Verdicts.Count + d.Flags.Count + d.Predictions.Sum(p => p.Rows.Count));
}

/// <summary>
/// Reads a bundle: extracts the tar (gzip or not) into a temporary directory, checks every file against the manifest
/// (listed, same SHA-256, size and line count), then parses and checks every line. Faults are collected with their
/// file and line; nothing is looked up in the database here, except through <see cref="BundleContent"/>'s consumers.
/// </summary>
public sealed partial class BundleReader : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "relabel-bundle-import-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, (string DiskPath, string Sha256, long Bytes, long Rows)> _files = new(StringComparer.Ordinal);
    private readonly LineErrors _errors;

    public BundleReader(LineErrors errors)
    {
        _errors = errors;
        Directory.CreateDirectory(_directory);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private const string Archive = "(archive)";

    /// <summary>Copies every regular file of the archive to disk with its SHA-256, size and line count.</summary>
    public async Task ExtractAsync(Stream tarStream, CancellationToken ct)
    {
        try
        {
            await using var tar = new TarReader(tarStream);
            while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
            {
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (entry.EntryType is TarEntryType.Directory) continue;
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    _errors.Add(Archive, 0, name, $"'{name}' is a {entry.EntryType} entry; a bundle holds regular files only.");
                    continue;
                }
                if (name.Length == 0 || name.Contains('\\') || name.StartsWith('/') || name.Split('/').Any(part => part is "" or "." or ".."))
                {
                    _errors.Add(Archive, 0, name, $"'{name}' is not a plain relative path.");
                    continue;
                }
                if (_files.ContainsKey(name)) { _errors.Add(Archive, 0, name, $"'{name}' is in the archive twice."); continue; }
                var diskPath = Path.Combine(_directory, _files.Count.ToString("D6"));
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long bytes = 0, rows = 0;
                await using (var output = new FileStream(diskPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
                {
                    if (entry.DataStream is { } data)
                    {
                        var buffer = new byte[64 * 1024];
                        int read;
                        while ((read = await data.ReadAsync(buffer, ct)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            rows += buffer.AsSpan(0, read).Count((byte)'\n');
                            bytes += read;
                            await output.WriteAsync(buffer.AsMemory(0, read), ct);
                        }
                    }
                }
                _files[name] = (diskPath, Convert.ToHexStringLower(hash.GetHashAndReset()), bytes, rows);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            _errors.Add(Archive, 0, "archive", $"Not a readable tar archive (tar.gz): {e.Message}");
        }
        if (_files.Count == 0 && !_errors.Any) _errors.Add(Archive, 0, "archive", "The archive holds no files.");
    }

    /// <summary>Reads the manifest and checks the files against it: each listed file present and unchanged, nothing unlisted.</summary>
    public BundleManifest? CheckManifest()
    {
        if (!_files.TryGetValue(BundleFormat.Manifest, out var file))
        {
            _errors.Add(BundleFormat.Manifest, 0, "manifest", "The bundle has no manifest.json.");
            return null;
        }
        BundleManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllBytes(file.DiskPath), BundleFormat.Json); }
        catch (JsonException e)
        {
            _errors.Add(BundleFormat.Manifest, (e.LineNumber ?? 0) + 1, e.Path ?? "$", "Malformed JSON: " + e.Message);
            return null;
        }
        if (manifest is null) { _errors.Add(BundleFormat.Manifest, 1, "$", "Expected a JSON object."); return null; }
        if (manifest.Format != BundleFormat.Name)
            _errors.Add(BundleFormat.Manifest, 0, "format", $"The format is '{manifest.Format}', not '{BundleFormat.Name}'.");
        if (manifest.Version != BundleFormat.Version)
            _errors.Add(BundleFormat.Manifest, 0, "version", $"Version {manifest.Version} of the format; this server reads version {BundleFormat.Version}.");
        if (manifest.Files is null || manifest.Files.Length == 0) _errors.Add(BundleFormat.Manifest, 0, "files", "The manifest lists no files.");
        if (manifest.Datasets is null || manifest.Datasets.Length == 0) _errors.Add(BundleFormat.Manifest, 0, "datasets", "The manifest names no datasets.");
        if (_errors.Any) return null;

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in manifest.Files!)
        {
            if (entry?.Path is not { } path) { _errors.Add(BundleFormat.Manifest, 0, "files", "A file entry has no path."); continue; }
            if (!listed.Add(path)) { _errors.Add(path, 0, "manifest", $"'{path}' is listed twice in the manifest."); continue; }
            if (!_files.TryGetValue(path, out var actual)) { _errors.Add(path, 0, "file", $"'{path}' is listed in the manifest but missing from the archive."); continue; }
            if (!string.Equals(entry.Sha256, actual.Sha256, StringComparison.OrdinalIgnoreCase))
                _errors.Add(path, 0, "sha256", $"The checksum of '{path}' does not match the manifest (manifest {entry.Sha256}, file {actual.Sha256}): the file was changed or damaged.");
            else if (entry.Bytes is { } bytes && bytes != actual.Bytes)
                _errors.Add(path, 0, "bytes", $"'{path}' has {actual.Bytes} bytes; the manifest says {bytes}.");
            else if (entry.Rows is { } rows && rows != actual.Rows)
                _errors.Add(path, 0, "rows", $"'{path}' has {actual.Rows} lines; the manifest says {rows}.");
        }
        foreach (var path in _files.Keys.Where(p => p != BundleFormat.Manifest && !listed.Contains(p)).Order(StringComparer.Ordinal))
            _errors.Add(path, 0, "file", $"'{path}' is in the archive but not listed in the manifest.");
        return _errors.Any ? null : manifest;
    }

    /// <summary>Parses every file of a checked bundle; faults go to the errors with their file and line.</summary>
    public async Task<BundleContent?> ReadAsync(BundleManifest manifest, CancellationToken ct)
    {
        var content = new BundleContent { Manifest = manifest, Checksum = BundleFormat.ContentChecksum(manifest.Files!) };
        ReadAccounts(content);
        ReadSources(content);
        ReadModels(content);
        ReadGuideNotes(content);
        var datasets = ReadDatasets(content);
        if (datasets is null) return null;
        foreach (var dataset in datasets) await ReadDatasetAsync(content, dataset, datasets, ct);
        return _errors.Any ? null : content;
    }

    private bool Has(string path) => _files.ContainsKey(path);

    /// <summary>Calls <paramref name="line"/> for each non-blank line parsed as <typeparamref name="T"/>.</summary>
    private void Lines<T>(string path, Action<long, T> line) where T : class
    {
        if (!_files.TryGetValue(path, out var file)) { _errors.Add(path, 0, "file", $"The bundle has no '{path}'."); return; }
        using var reader = new StreamReader(file.DiskPath, new UTF8Encoding(false, throwOnInvalidBytes: true), false,
            new FileStreamOptions { BufferSize = 64 * 1024 });
        var number = 0L;
        try
        {
            while (reader.ReadLine() is { } text)
            {
                number++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                T? value;
                try { value = JsonSerializer.Deserialize<T>(text, BundleFormat.Json); }
                catch (JsonException e)
                {
                    _errors.Add(path, number, e.Path is null or "$" ? "line" : e.Path.TrimStart('$', '.'), "Malformed JSON: " + e.Message);
                    continue;
                }
                if (value is null) { _errors.Add(path, number, "line", "Expected a JSON object."); continue; }
                line(number, value);
            }
        }
        catch (DecoderFallbackException) { _errors.Add(path, number + 1, "line", "The file is not valid UTF-8."); }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex SlugPattern();

    [GeneratedRegex("^n[0-9]{8}$")]
    private static partial Regex WnidPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    private static partial Regex AccountPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$")]
    private static partial Regex ImageSetPattern();

    [GeneratedRegex("^(latest|majority|agreement:[1-9][0-9]?)$")]
    private static partial Regex RulePattern();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    private readonly Dictionary<string, int> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sources = new(StringComparer.Ordinal);
    private readonly HashSet<string> _models = new(StringComparer.Ordinal);

    private void ReadAccounts(BundleContent content) => Lines<BundleAccountLine>(BundleFormat.Accounts, (line, a) =>
    {
        if (a.Name is null || !AccountPattern().IsMatch(a.Name)) _errors.Add(BundleFormat.Accounts, line, "name", "Letters, digits, '_', '.' and '-', at most 63.");
        else if ((a.DisplayName?.Length ?? 0) > 200) _errors.Add(BundleFormat.Accounts, line, "displayName", "At most 200 characters.");
        else if (!_accounts.TryAdd(a.Name, content.Accounts.Count)) _errors.Add(BundleFormat.Accounts, line, "name", $"'{a.Name}' is listed twice.");
        else content.Accounts.Add(a);
    });

    private void ReadSources(BundleContent content) => Lines<BundleSourceLine>(BundleFormat.Sources, (line, s) =>
    {
        if (s.Name is not { Length: >= 1 and <= 200 }) _errors.Add(BundleFormat.Sources, line, "name", "1 to 200 characters.");
        else if (s.Kind is not ("import" or "rater" or "expert")) _errors.Add(BundleFormat.Sources, line, "kind", "One of import, rater, expert.");
        else if (!_sources.TryAdd(s.Name, content.Sources.Count)) _errors.Add(BundleFormat.Sources, line, "name", $"'{s.Name}' is listed twice.");
        else content.Sources.Add(s);
    });

    private void ReadModels(BundleContent content)
    {
        var validator = new CreateModelValidator();
        Lines<BundleModelLine>(BundleFormat.Models, (line, m) =>
        {
            var result = validator.Validate(new CreateModelRequest(m.Slug ?? "", m.DisplayName ?? "", m.Kind ?? "", m.Description, m.PaperUrl,
                m.CodeUrl, m.ParameterCount, m.TrainingData, m.Tags));
            foreach (var failure in result.Errors) _errors.Add(BundleFormat.Models, line, JsonNamingPolicy.CamelCase.ConvertName(failure.PropertyName), failure.ErrorMessage);
            if (m.Owner is not null && !_accounts.ContainsKey(m.Owner))
                _errors.Add(BundleFormat.Models, line, "owner", $"'{m.Owner}' is not in {BundleFormat.Accounts}.");
            if (!result.IsValid) return;
            if (!_models.Add(m.Slug!)) { _errors.Add(BundleFormat.Models, line, "slug", $"'{m.Slug}' is listed twice."); return; }
            content.Models.Add((m, line));
        });
    }

    private void ReadGuideNotes(BundleContent content) => Lines<BundleGuideNoteLine>(BundleFormat.GuideNotes, (line, g) =>
    {
        var path = BundleFormat.GuideNotes;
        if (g.Wnid is null || !WnidPattern().IsMatch(g.Wnid)) _errors.Add(path, line, "wnid", "A wnid (n + 8 digits).");
        else if (g.OtherWnid is not null && (!WnidPattern().IsMatch(g.OtherWnid) || string.CompareOrdinal(g.Wnid, g.OtherWnid) >= 0))
            _errors.Add(path, line, "otherWnid", "A wnid after wnid in sort order (pairs are stored once, the smaller first).");
        else if (g.Body is not { Length: >= 1 and <= 20_000 }) _errors.Add(path, line, "body", "1 to 20,000 characters.");
        else if (g.Author is not null && !_accounts.ContainsKey(g.Author)) _errors.Add(path, line, "author", $"'{g.Author}' is not in {BundleFormat.Accounts}.");
        else content.GuideNotes.Add((g, line));
    });

    private List<BundleDataset>? ReadDatasets(BundleContent content)
    {
        var path = BundleFormat.Datasets;
        var all = new List<BundleDataset>();
        Lines<BundleDatasetLine>(path, (line, d) =>
        {
            if (d.Slug is null || !SlugPattern().IsMatch(d.Slug)) { _errors.Add(path, line, "slug", "Lowercase letters, digits and '-', at most 63 characters."); return; }
            if (d.Name is not { Length: >= 1 and <= 200 }) _errors.Add(path, line, "name", "1 to 200 characters.");
            if ((d.Description?.Length ?? 0) > 10_000) _errors.Add(path, line, "description", "At most 10,000 characters.");
            if (d.ConsensusRule is not null && !RulePattern().IsMatch(d.ConsensusRule)) _errors.Add(path, line, "consensusRule", "'latest', 'majority' or 'agreement:N'.");
            if (d.LabelVersion is < 0) _errors.Add(path, line, "labelVersion", "Not negative.");
            if (all.Any(o => o.Slug == d.Slug)) { _errors.Add(path, line, "slug", $"'{d.Slug}' is listed twice."); return; }
            all.Add(new BundleDataset { Meta = d, Line = line });
        });
        if (all.Count == 0 && !_errors.Any) _errors.Add(path, 0, "datasets", "The bundle has no datasets.");
        if (!all.Select(d => d.Slug).Order().SequenceEqual(content.Manifest.Datasets!.Order()))
            _errors.Add(BundleFormat.Manifest, 0, "datasets", $"The manifest names the datasets {string.Join(", ", content.Manifest.Datasets!)}; {path} has {string.Join(", ", all.Select(d => d.Slug))}.");
        foreach (var d in all)
        {
            if (d.Meta.LabelSpaceOf is { } of)
            {
                var other = all.FirstOrDefault(o => o.Slug == of);
                if (other is null || other.Meta.LabelSpaceOf is not null || other == d)
                    _errors.Add(path, d.Line, "labelSpaceOf", $"'{of}' is not a dataset of the bundle with its own classes.");
                else if (Has(BundleFormat.DatasetFile(d.Slug, BundleFormat.Classes)))
                    _errors.Add(BundleFormat.DatasetFile(d.Slug, BundleFormat.Classes), 0, "file", $"{d.Slug} shares the classes of {of}, so it has no classes file.");
            }
            if (d.Meta.ShiftOf == d.Slug) _errors.Add(path, d.Line, "shiftOf", "A dataset is not a shift of itself.");
        }
        if (_errors.Any) return null;

        // Creation order: the dataset a shift refers to (when in the bundle) and the one whose classes are shared come first.
        var ordered = new List<BundleDataset>();
        while (ordered.Count < all.Count)
        {
            var next = all.FirstOrDefault(d => !ordered.Contains(d)
                && (d.Meta.ShiftOf is not { } s || all.All(o => o.Slug != s) || ordered.Any(o => o.Slug == s))
                && (d.Meta.LabelSpaceOf is not { } l || ordered.Any(o => o.Slug == l)));
            if (next is null)
            {
                _errors.Add(path, 0, "shiftOf", "The shift pairs of the datasets form a cycle.");
                return null;
            }
            ordered.Add(next);
        }
        content.Datasets.AddRange(ordered);
        return ordered;
    }

    private bool TryAuthor(string path, long line, string? reviewer, string? source, out BundleAuthor author)
    {
        author = default;
        if ((reviewer is null) == (source is null))
        {
            _errors.Add(path, line, "reviewer", "Give exactly one of reviewer (an account) and source.");
            return false;
        }
        if (reviewer is not null)
        {
            if (!_accounts.TryGetValue(reviewer, out var index)) { _errors.Add(path, line, "reviewer", $"'{reviewer}' is not in {BundleFormat.Accounts}."); return false; }
            author = new BundleAuthor(false, index);
            return true;
        }
        if (!_sources.TryGetValue(source!, out var s)) { _errors.Add(path, line, "source", $"'{source}' is not in {BundleFormat.Sources}."); return false; }
        author = new BundleAuthor(true, s);
        return true;
    }

    private static readonly string[] ItemStateNames = ["pending", "correct", "wrong", "unclear", "conflict"];

    private async Task ReadDatasetAsync(BundleContent content, BundleDataset d, List<BundleDataset> datasets, CancellationToken ct)
    {
        string File(string name) => BundleFormat.DatasetFile(d.Slug, name);
        foreach (var name in BundleFormat.RequiredDatasetFiles.Where(n => !Has(File(n))))
            _errors.Add(File(name), 0, "file", $"The bundle has no '{File(name)}'.");

        // Classes: this dataset's own, or those of the dataset whose label space it shares (read before it).
        if (d.Meta.LabelSpaceOf is { } of)
        {
            var shared = datasets.First(o => o.Slug == of);
            d.Classes = shared.Classes;
            d.ClassLines = shared.ClassLines;
        }
        else
        {
            var classes = new List<string>();
            var lines = new List<(string, long)>();
            var path = File(BundleFormat.Classes);
            Lines<BundleClassLine>(path, (line, c) =>
            {
                if (c.Index != classes.Count) { _errors.Add(path, line, "index", $"Expected class index {classes.Count} (classes are listed in index order from 0)."); return; }
                if (c.Wnid is null || !WnidPattern().IsMatch(c.Wnid)) { _errors.Add(path, line, "wnid", "A wnid (n + 8 digits)."); return; }
                if (classes.Contains(c.Wnid)) { _errors.Add(path, line, "wnid", $"'{c.Wnid}' is listed twice."); return; }
                classes.Add(c.Wnid);
                lines.Add((path, line));
            });
            if (classes.Count is 0 or > 32_767 && !_errors.Any) _errors.Add(path, 0, "classes", "1 to 32,767 classes.");
            d.Classes = [.. classes];
            d.ClassLines = [.. lines];
        }
        var classIndex = d.Classes.Select((w, i) => (w, i)).ToDictionary(c => c.w, c => (short)c.i, StringComparer.Ordinal);
        bool TryClass(string path, long line, string field, string? wnid, out short index)
        {
            index = 0;
            if (wnid is not null && classIndex.TryGetValue(wnid, out index)) return true;
            _errors.Add(path, line, field, $"'{wnid}' is not a class of {d.Slug}.");
            return false;
        }
        bool TryImage(string path, long line, string field, string? file, out int index)
        {
            index = 0;
            if (file is not null && d.ImageIndex.TryGetValue(file, out index)) return true;
            _errors.Add(path, line, field, $"'{file}' is not an image of {d.Slug} (not in {File(BundleFormat.Images)}).");
            return false;
        }
        var labelVersion = d.Meta.LabelVersion ?? 0;

        var subsets = File(BundleFormat.Subsets);
        if (Has(subsets))
            Lines<BundleSubsetLine>(subsets, (line, s) =>
            {
                if (s.Name is null || !SlugPattern().IsMatch(s.Name)) { _errors.Add(subsets, line, "name", "Lowercase letters, digits and '-', at most 63 characters."); return; }
                if (Datasets.LabelSpaces.BuiltInSubsets.Any(b => b.Name == s.Name)) { _errors.Add(subsets, line, "name", $"'{s.Name}' is a built-in subset."); return; }
                if (d.Subsets.Any(o => o.Name == s.Name)) { _errors.Add(subsets, line, "name", $"'{s.Name}' is listed twice."); return; }
                if (s.IncludeRoot is null && s.ExcludeRoot is null && s.Wnids is null) { _errors.Add(subsets, line, "definition", "Give includeRoot, excludeRoot or wnids."); return; }
                foreach (var (field, root) in new[] { ("includeRoot", s.IncludeRoot), ("excludeRoot", s.ExcludeRoot) })
                    if (root is not null && !WnidPattern().IsMatch(root)) { _errors.Add(subsets, line, field, "A wnid (n + 8 digits)."); return; }
                if (s.Wnids is not null && (s.Wnids.Length == 0 || s.Wnids.Any(w => !classIndex.ContainsKey(w))))
                {
                    _errors.Add(subsets, line, "wnids", $"Every wnid must be a class of {d.Slug}, and the list not empty.");
                    return;
                }
                d.Subsets.Add(new BundleSubset(s.Name, s.Description ?? "", s.IncludeRoot, s.ExcludeRoot, s.Wnids, line));
            });

        var images = File(BundleFormat.Images);
        if (Has(images))
            Lines<BundleImageLine>(images, (line, i) =>
            {
                if (i.File is not { Length: >= 1 and <= 255 }) { _errors.Add(images, line, "file", "A file name of 1 to 255 characters."); return; }
                if (!TryClass(images, line, "wnid", i.Wnid, out var cls)) return;
                if (i.Sha256 is not null && (!Sha256Pattern().IsMatch(i.Sha256) || i.MediaType is not { Length: >= 1 and <= 100 }))
                {
                    _errors.Add(images, line, "sha256", "A SHA-256 in lowercase hex, with its mediaType.");
                    return;
                }
                if (!d.ImageIndex.TryAdd(i.File, d.Images.Count)) { _errors.Add(images, line, "file", $"'{i.File}' is listed twice."); return; }
                d.Images.Add(new BundleImage(i.File, cls, i.Sha256, i.Sha256 is null ? null : i.MediaType, i.Bytes, i.Width, i.Height));
                d.ImageLines.Add(line);
            });

        var reference = File(BundleFormat.ReferenceLabels);
        if (Has(reference))
        {
            d.ReferenceLabels = [];
            var seen = new HashSet<int>();
            Lines<BundleReferenceLabelLine>(reference, (line, r) =>
            {
                if (!TryImage(reference, line, "image", r.Image, out var image)) return;
                if (!seen.Add(image)) { _errors.Add(reference, line, "image", $"'{r.Image}' is listed twice."); return; }
                if (r.Labels?.Length > 1000) { _errors.Add(reference, line, "labels", "At most 1,000 labels."); return; }
                var labels = new short[r.Labels?.Length ?? 0];
                for (var j = 0; j < labels.Length; j++)
                    if (!TryClass(reference, line, $"labels[{j}]", r.Labels![j], out labels[j])) return;
                if (labels.Distinct().Count() != labels.Length) { _errors.Add(reference, line, "labels", "A label is listed twice."); return; }
                d.ReferenceLabels.Add((image, labels));
            });
        }

        var sets = File(BundleFormat.ImageSets);
        if (Has(sets))
            Lines<BundleImageSetLine>(sets, (line, s) =>
            {
                if (s.Name is null || !ImageSetPattern().IsMatch(s.Name)) { _errors.Add(sets, line, "name", "Lowercase letters, digits, '_' and '-', at most 63."); return; }
                if (d.ImageSets.Any(o => o.Name == s.Name)) { _errors.Add(sets, line, "name", $"'{s.Name}' is listed twice."); return; }
                var members = new List<int>();
                foreach (var (file, j) in (s.Images ?? []).Select((f, j) => (f, j)))
                {
                    if (!TryImage(sets, line, $"images[{j}]", file, out var image)) return;
                    members.Add(image);
                }
                d.ImageSets.Add(new BundleImageSet(s.Name, s.Description ?? "", members.Distinct().ToArray()));
            });

        var versions = File(BundleFormat.LabelVersions);
        if (Has(versions))
            Lines<BundleLabelVersionLine>(versions, (line, v) =>
            {
                if (v.Version is not { } version || version < 1 || version > labelVersion)
                    _errors.Add(versions, line, "version", $"A version from 1 to the dataset's label version ({labelVersion}).");
                else if (d.LabelVersions.Any(o => o.Version == version)) _errors.Add(versions, line, "version", $"Version {version} is listed twice.");
                else if (v.CreatedAt is not { } created) _errors.Add(versions, line, "createdAt", "Missing.");
                else if (v.ChangedItems is < 0 || v.ChangedFlags is < 0) _errors.Add(versions, line, "changedItems", "Not negative.");
                else if (v.ConsensusRule is not null && !RulePattern().IsMatch(v.ConsensusRule)) _errors.Add(versions, line, "consensusRule", "'latest', 'majority' or 'agreement:N'.");
                else d.LabelVersions.Add(new BundleLabelVersion(version, BundleFormat.Microseconds(created), v.ChangedItems ?? 0, v.ChangedFlags ?? 0, v.ConsensusRule));
            });

        var items = File(BundleFormat.ReviewItems);
        if (Has(items))
        {
            var seen = new HashSet<(int, short)>();
            Lines<BundleReviewItemLine>(items, (line, r) =>
            {
                if (!TryImage(items, line, "image", r.Image, out var image) || !TryClass(items, line, "wnid", r.Wnid, out var cls)) return;
                if (!seen.Add((image, cls))) { _errors.Add(items, line, "wnid", $"'{r.Image}' / '{r.Wnid}' is listed twice."); return; }
                var state = ItemStateNames.FirstOrDefault(s => s == (r.State ?? "pending"));
                if (state is null) { _errors.Add(items, line, "state", "One of pending, correct, wrong, unclear, conflict."); return; }
                d.Items.Add(new BundleItem(image, cls, r.Control ?? false, state));
            });
        }

        var verdicts = File(BundleFormat.Verdicts);
        if (Has(verdicts))
            Lines<BundleVerdictLine>(verdicts, (line, v) =>
            {
                if (!TryImage(verdicts, line, "image", v.Image, out var image) || !TryClass(verdicts, line, "wnid", v.Wnid, out var cls)) return;
                if (!TryAuthor(verdicts, line, v.Reviewer, v.Source, out var author)) return;
                var verdict = Verdicts.All.FirstOrDefault(a => a == v.Verdict);
                if (verdict is null) { _errors.Add(verdicts, line, "verdict", $"One of {string.Join(", ", Verdicts.All)}."); return; }
                if ((v.Note?.Length ?? 0) > 5000) { _errors.Add(verdicts, line, "note", "At most 5,000 characters."); return; }
                if (v.SecondsSpent is { } seconds && (!float.IsFinite(seconds) || seconds < 0)) { _errors.Add(verdicts, line, "secondsSpent", "A number of seconds, not negative."); return; }
                if (v.LabelVersion is not { } version || version < 0 || version > labelVersion)
                {
                    _errors.Add(verdicts, line, "labelVersion", $"A version from 0 to the dataset's label version ({labelVersion}).");
                    return;
                }
                if (v.CreatedAt is not { } created) { _errors.Add(verdicts, line, "createdAt", "Missing."); return; }
                d.Verdicts.Add(new BundleVerdict(image, cls, author, verdict, v.Adjudication ?? false, v.Note ?? "", v.SecondsSpent, version,
                    BundleFormat.Microseconds(created)));
            });

        var flags = File(BundleFormat.Flags);
        if (Has(flags))
            Lines<BundleFlagLine>(flags, (line, f) =>
            {
                if (!TryImage(flags, line, "image", f.Image, out var image)) return;
                if (!TryAuthor(flags, line, f.Reviewer, f.Source, out var author)) return;
                if (f.Problematic is not { } problematic) { _errors.Add(flags, line, "problematic", "Missing: true or false."); return; }
                if (f.Reason is not null && !FlagReasons.All.Contains(f.Reason)) { _errors.Add(flags, line, "reason", $"One of {string.Join(", ", FlagReasons.All)}."); return; }
                if (problematic && f.Reason is null) { _errors.Add(flags, line, "reason", "A problematic flag needs a reason."); return; }
                if (f.Reason == FlagReasons.Other && string.IsNullOrEmpty(f.Note)) { _errors.Add(flags, line, "note", "The reason 'other' needs a note."); return; }
                if ((f.Note?.Length ?? 0) > 5000) { _errors.Add(flags, line, "note", "At most 5,000 characters."); return; }
                if (f.LabelVersion is not { } version || version < 0 || version > labelVersion)
                {
                    _errors.Add(flags, line, "labelVersion", $"A version from 0 to the dataset's label version ({labelVersion}).");
                    return;
                }
                if (f.CreatedAt is not { } created) { _errors.Add(flags, line, "createdAt", "Missing."); return; }
                d.Flags.Add(new BundleFlag(image, author, problematic, f.Reason, f.Note ?? "", version, BundleFormat.Microseconds(created)));
            });

        var predictionSets = File(BundleFormat.PredictionSets);
        var listed = new List<(BundlePredictionSetLine Set, long Line)>();
        if (Has(predictionSets))
            Lines<BundlePredictionSetLine>(predictionSets, (line, p) =>
            {
                if (p.Model is null || !_models.Contains(p.Model)) _errors.Add(predictionSets, line, "model", $"'{p.Model}' is not in {BundleFormat.Models}.");
                else if (listed.Any(o => o.Set.Model == p.Model)) _errors.Add(predictionSets, line, "model", $"'{p.Model}' is listed twice.");
                else if (p.File is null || !Has(p.File)) _errors.Add(predictionSets, line, "file", $"'{p.File}' is not a file of the bundle.");
                else if (p.K is not (>= 1 and <= PredictionParser.MaxK)) _errors.Add(predictionSets, line, "k", $"1 to {PredictionParser.MaxK}.");
                else listed.Add((p, line));
            });

        // Predictions: the same parser and checks as PUT predictions (NDJSON), against the bundle's images and classes.
        var targets = new PredictionTargets(d.ImageIndex.ToDictionary(p => p.Key, p => (long)p.Value, StringComparer.Ordinal), d.Classes);
        foreach (var (set, line) in listed)
        {
            var parser = new PredictionParser(targets, LabelMode.Wnid);
            await using (var stream = new FileStream(_files[set.File!].DiskPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true))
                await parser.ParseNdjsonAsync(stream, ct);
            parser.Finish(partial: true);
            foreach (var e in parser.Errors.First) _errors.Add(set.File, e.Line, e.Field, e.Message);
            if (parser.Errors.Count > parser.Errors.First.Count) _errors.CountAtLeast(_errors.Count + parser.Errors.Count - parser.Errors.First.Count);
            if (parser.Errors.Any) continue;
            if (parser.K != set.K) { _errors.Add(predictionSets, line, "k", $"k is {set.K}, but the rows of {set.File} have {parser.K} labels."); continue; }
            if (set.Rows is { } rows && rows != parser.Rows.Count) { _errors.Add(predictionSets, line, "rows", $"{rows} rows, but {set.File} has {parser.Rows.Count}."); continue; }
            d.Predictions.Add(new BundlePredictionSet(set.Model!, parser.K, parser.Rows));
        }
    }
}
