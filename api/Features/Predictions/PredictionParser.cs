using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using nietras.SeparatedValues;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Predictions;

public enum LabelMode { Wnid, Index }

/// <summary>One validated prediction, kept compact: the image id, class indices (top-1 first) and optional scores.</summary>
public readonly record struct PredictionRow(long ImageId, short[] Labels, float[]? Scores);

/// <summary>What an upload is checked against: the dataset's file names and its label space.</summary>
public sealed class PredictionTargets(Dictionary<string, long> imageIds, string[] wnids)
{
    private readonly Dictionary<string, short> _indexByWnid =
        wnids.Select((wnid, index) => (wnid, index)).ToDictionary(c => c.wnid, c => (short)c.index, StringComparer.Ordinal);

    public Dictionary<string, long> ImageIds { get; } = imageIds;

    /// <summary>The label space in class-index order.</summary>
    public string[] Wnids { get; } = wnids;

    public int ImageCount => ImageIds.Count;

    public static async Task<PredictionTargets> LoadAsync(NpgsqlConnection connection, long datasetId, long labelSpaceId)
    {
        var images = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var reader = await connection.ExecuteReaderAsync(
            "select file_name, id from images where dataset_id = @datasetId", new { datasetId }))
            while (await reader.ReadAsync())
                images[reader.GetString(0)] = reader.GetInt64(1);
        // Class indices are stored as smallint: label spaces beyond 32,767 classes cannot take predictions.
        var wnids = (await connection.QueryAsync<string>(
            "select wnid from label_space_classes where label_space_id = @labelSpaceId and class_index < 32767 order by class_index",
            new { labelSpaceId })).ToArray();
        return new PredictionTargets(images, wnids);
    }

    public bool TryIndexOf(ReadOnlySpan<char> wnid, out short index) =>
        _indexByWnid.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(wnid, out index);

    public bool TryImageId(ReadOnlySpan<char> fileName, out long id) =>
        ImageIds.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(fileName, out id);
}

/// <summary>
/// The targets of the datasets uploaded to lately, kept while their images do not change (the image epoch, bumped
/// by a trigger on every change of a dataset's images, says so): a 1,000-row upload to a 50,000-image dataset
/// then does not read 50,000 file names first.
/// </summary>
public sealed class PredictionTargetsCache
{
    private const int Datasets = 16;
    private readonly Dictionary<long, (long LabelSpaceId, long Epoch, PredictionTargets Targets, long Used)> _entries = new();
    private long _clock;

    /// <param name="epoch">The dataset's image epoch, read before this call.</param>
    public async Task<PredictionTargets> GetAsync(NpgsqlConnection connection, long datasetId, long labelSpaceId, long epoch)
    {
        lock (_entries)
            if (_entries.TryGetValue(datasetId, out var entry) && entry.Epoch == epoch && entry.LabelSpaceId == labelSpaceId)
            {
                _entries[datasetId] = entry with { Used = ++_clock };
                return entry.Targets;
            }
        var targets = await PredictionTargets.LoadAsync(connection, datasetId, labelSpaceId);
        lock (_entries)
        {
            if (_entries.Count >= Datasets && !_entries.ContainsKey(datasetId))
                _entries.Remove(_entries.MinBy(e => e.Value.Used).Key);
            _entries[datasetId] = (labelSpaceId, epoch, targets, ++_clock);
        }
        return targets;
    }
}

/// <summary>
/// Reads predictions from a JSON document, CSV or NDJSON stream and checks each row as it arrives
/// (image known and not repeated, 1-5 distinct labels of the label space, the same k throughout, scores matching).
/// Only the compact rows are kept; the body is never held whole.
/// </summary>
public sealed class PredictionParser(PredictionTargets targets, LabelMode mode, long maxRows = long.MaxValue)
{
    public const int MaxK = 5;
    /// <summary>A single JSON row larger than this is refused rather than buffered.</summary>
    public const int MaxJsonRowBytes = 1 << 20;
    private readonly Dictionary<long, long> _lineOfImage = new(targets.ImageCount);
    private readonly short[] _labels = new short[MaxK];
    private long _kLine;

    public List<PredictionRow> Rows { get; } = new(targets.ImageCount);
    public LineErrors Errors { get; } = new();
    public int K { get; private set; }
    public long RowCount { get; private set; }
    /// <summary>
    /// k as a CSV header fixes it (label1…labelk): a row may then leave its trailing label cells empty and have fewer
    /// labels; otherwise the first row sets k and every row must have as many.
    /// </summary>
    private bool _kFixed;

    /// <summary>Called with each valid row as it is read, while no error has been seen: the store streams them on.</summary>
    public Action<PredictionRow>? RowAdded { get; set; }

    /// <summary>Checks one row and keeps it when valid. <paramref name="label"/> gives the j-th label: a wnid or a class index, as text.</summary>
    public void Add(long line, ReadOnlySpan<char> image, int labelCount, Func<int, ReadOnlySpan<char>> label, float[]? scores)
    {
        RowCount++;
        var valid = true;
        long imageId = 0;
        image = image.Trim();
        if (image.IsEmpty) { Errors.Add(line, "image", "The image file name is missing."); valid = false; }
        else if (!targets.TryImageId(image, out imageId))
        {
            Errors.Add(line, "image", $"'{Shorten(image)}' is not an image of this dataset.");
            valid = false;
        }
        else if (_lineOfImage.TryGetValue(imageId, out var first))
        {
            Errors.Add(line, "image", $"'{Shorten(image)}' is predicted twice (first on {first}).");
            valid = false;
        }
        else _lineOfImage[imageId] = line;

        if (labelCount is < 1 or > MaxK)
        {
            Errors.Add(line, "labels", $"{labelCount} labels; give 1 to {MaxK} ranked labels.");
            return;
        }
        if (K == 0) { K = labelCount; _kLine = line; }
        else if (_kFixed ? labelCount > K : labelCount != K)
        {
            Errors.Add(line, "labels", $"{labelCount} labels, but the first row ({_kLine}) has {K}: every row must have the same k.");
            valid = false;
        }

        for (var j = 0; j < labelCount && j < MaxK; j++)
        {
            var text = label(j).Trim();
            if (text.IsEmpty)
            {
                Errors.Add(line, $"labels[{j}]", "The label is missing: only the last label cells of a row may be left empty.");
                valid = false;
                continue;
            }
            if (!TryResolve(text, out var index, out var problem))
            {
                Errors.Add(line, $"labels[{j}]", problem);
                valid = false;
                continue;
            }
            _labels[j] = index;
            for (var i = 0; i < j; i++)
                if (_labels[i] == index)
                {
                    Errors.Add(line, $"labels[{j}]", $"'{Shorten(text)}' is listed twice in this row.");
                    valid = false;
                    break;
                }
        }

        if (scores is not null)
        {
            if (scores.Length != labelCount)
            {
                Errors.Add(line, "scores", $"{scores.Length} scores for {labelCount} labels.");
                valid = false;
            }
            else if (scores.Any(s => !float.IsFinite(s)))
            {
                Errors.Add(line, "scores", "Scores must be finite numbers.");
                valid = false;
            }
        }

        if (valid && !Errors.Any && RowCount <= maxRows)
        {
            var row = new PredictionRow(imageId, _labels.AsSpan(0, labelCount).ToArray(), scores);
            Rows.Add(row);
            RowAdded?.Invoke(row);
        }
    }

    /// <summary>After the last row: the body had rows, and covers every image unless partial uploads are allowed.</summary>
    public void Finish(bool partial)
    {
        if (RowCount == 0 && !Errors.Any)
        {
            Errors.Add(1, "body", "There are no predictions in the body.");
            return;
        }
        if (partial || Errors.Any) return;
        var missing = targets.ImageCount - _lineOfImage.Count;
        if (missing <= 0) return;
        var examples = targets.ImageIds.Where(p => !_lineOfImage.ContainsKey(p.Value)).Take(3).Select(p => p.Key);
        Errors.Add(0, "coverage",
            $"{missing} of the {targets.ImageCount} images of the dataset are not predicted (e.g. {string.Join(", ", examples)}); " +
            "predict every image once, or send ?partial=true to upload a subset.");
    }

    private bool TryResolve(ReadOnlySpan<char> text, out short index, out string problem)
    {
        problem = "";
        index = 0;
        if (mode == LabelMode.Index)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                if (value < targets.Wnids.Length) { index = (short)value; return true; }
                problem = $"Class index {value} is out of range (0-{targets.Wnids.Length - 1}).";
                return false;
            }
            problem = $"'{Shorten(text)}' is not a class index (labels=index); send ?labels=wnid for wnids.";
            return false;
        }
        if (targets.TryIndexOf(text, out index)) return true;
        problem = text.Length > 0 && text.ContainsAnyExcept("0123456789")
            ? $"'{Shorten(text)}' is not a wnid of this dataset's label space."
            : $"'{Shorten(text)}' is not a wnid (labels=wnid); send ?labels=index for class indices.";
        return false;
    }

    private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 80 ? text.ToString() : text[..80].ToString() + "…";

    // --- Formats ----------------------------------------------------------------------------------

    private enum JsonPhase { Start, InRoot, InPredictions, Done }

    /// <summary>Where the incremental JSON reader stands between two buffers of the body.</summary>
    private sealed class JsonCursor
    {
        public JsonReaderState State = new(new JsonReaderOptions { MaxDepth = 32 });
        public JsonPhase Phase = JsonPhase.Start;
        public bool SawPredictions;
        public long Row;
    }

    /// <summary>
    /// {"predictions":[{"image":"…","labels":["n…",…],"scores":[…]}]}; line = row number in the array, from 1.
    /// Read incrementally: each row is checked (and streamed on) as soon as its bytes have arrived.
    /// </summary>
    public async Task ParseJsonAsync(Stream body, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        var cursor = new JsonCursor();
        var length = 0;
        var final = false;
        try
        {
            while (true)
            {
                if (!final)
                {
                    if (length == buffer.Length)
                    {
                        // One value does not fit the buffer: grow it, up to the largest row we accept.
                        if (buffer.Length >= MaxJsonRowBytes * 2)
                        {
                            Errors.Add(cursor.Row + 1, "row", $"A row is larger than {MaxJsonRowBytes / 1024} KiB.");
                            return;
                        }
                        var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    var read = await body.ReadAsync(buffer.AsMemory(length), ct);
                    if (read == 0) final = true;
                    length += read;
                }
                var consumed = ReadJson(buffer.AsSpan(0, length), final, cursor);
                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
                if (cursor.Phase == JsonPhase.Done && final) break;
                if (final && consumed == 0)
                {
                    Errors.Add(cursor.Row + 1, "body", "The JSON document ends too early.");
                    return;
                }
            }
        }
        catch (JsonException e)
        {
            Errors.Add((e.LineNumber ?? 0) + 1, "body", $"Malformed JSON at {(cursor.Row > 0 ? $"row {cursor.Row + 1}" : "$")}: {e.Message}");
            return;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (!cursor.SawPredictions)
            Errors.Add(1, "body", "Expected a JSON object {\"predictions\": [{\"image\": …, \"labels\": […]}, …]}.");
    }

    /// <summary>Reads as many whole tokens and rows as the buffer holds; returns the bytes consumed.</summary>
    private int ReadJson(ReadOnlySpan<byte> data, bool final, JsonCursor cursor)
    {
        var reader = new Utf8JsonReader(data, final, cursor.State);
        while (true)
        {
            var checkpoint = reader;
            if (!reader.Read()) { reader = checkpoint; break; }
            switch (cursor.Phase)
            {
                case JsonPhase.Start:
                    if (reader.TokenType != JsonTokenType.StartObject)
                        throw new JsonException("Expected a JSON object {\"predictions\": […]}.", null, 0, 0);
                    cursor.Phase = JsonPhase.InRoot;
                    continue;
                case JsonPhase.InRoot:
                    if (reader.TokenType == JsonTokenType.EndObject) { cursor.Phase = JsonPhase.Done; continue; }
                    var isPredictions = string.Equals(reader.GetString(), "predictions", StringComparison.OrdinalIgnoreCase);
                    if (!reader.Read()) { reader = checkpoint; goto end; }
                    if (isPredictions && reader.TokenType == JsonTokenType.StartArray)
                    {
                        cursor.SawPredictions = true;
                        cursor.Phase = JsonPhase.InPredictions;
                    }
                    else if (isPredictions && reader.TokenType != JsonTokenType.Null)
                        throw new JsonException("\"predictions\" must be an array of rows.", null, 0, 0);
                    else if (!reader.TrySkip()) { reader = checkpoint; goto end; }
                    continue;
                case JsonPhase.InPredictions:
                    if (reader.TokenType == JsonTokenType.EndArray) { cursor.Phase = JsonPhase.InRoot; continue; }
                    var endOfRow = reader;
                    if (!endOfRow.TrySkip()) { reader = checkpoint; goto end; }
                    var line = ++cursor.Row;
                    if (reader.TokenType == JsonTokenType.Null) { RowCount++; Errors.Add(line, "row", "A row is null."); }
                    else if (reader.TokenType != JsonTokenType.StartObject) { RowCount++; Errors.Add(line, "row", "A row must be a JSON object."); }
                    else ReadJsonRow(ref reader, line);
                    reader = endOfRow;
                    continue;
                default:
                    // Only whitespace may follow the document; the reader throws on anything else.
                    continue;
            }
        }
        end:
        cursor.State = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    /// <summary>One JSON object per line; line = line number, from 1. Blank lines are skipped.</summary>
    public async Task ParseNdjsonAsync(Stream body, CancellationToken ct)
    {
        using var reader = new StreamReader(body, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        var line = 0L;
        while (await reader.ReadLineAsync(ct) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            ReadNdjsonLine(Encoding.UTF8.GetBytes(text), line);
        }
    }

    /// <summary>One NDJSON line: a row object, read by the same reader as the rows of a JSON document.</summary>
    private void ReadNdjsonLine(ReadOnlySpan<byte> bytes, long line)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 32 });
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject) { RowCount++; Errors.Add(line, "row", "Expected a JSON object."); return; }
            var end = reader;
            end.Skip();
            ReadJsonRow(ref reader, line);
            // Only whitespace may follow the object; the reader throws on anything else.
            while (end.Read()) { }
        }
        catch (JsonException e)
        {
            RowCount++;
            Errors.Add(line, "row", $"Malformed JSON: {e.Message}");
        }
    }

    // The labels of the row being read, as text; reused from row to row.
    private readonly char[][] _labelText = Enumerable.Range(0, MaxK).Select(_ => new char[64]).ToArray();
    private readonly int[] _labelLength = new int[MaxK];
    private readonly char[] _imageText = new char[1024];
    private Func<int, ReadOnlySpan<char>>? _labelAt;

    /// <summary>
    /// One row object, read token by token from the reader (on its StartObject) without allocating per label:
    /// "image" a string, "labels" strings (wnids) or numbers (class indices), "scores" numbers or null.
    /// </summary>
    private void ReadJsonRow(ref Utf8JsonReader reader, long line)
    {
        _labelAt ??= j => _labelText[j].AsSpan(0, _labelLength[j]);
        var imageLength = -1;
        var labelCount = 0;
        float[]? scores = null;
        string? problem = null, field = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var isImage = NameIs(ref reader, "image");
            var isLabels = !isImage && NameIs(ref reader, "labels");
            var isScores = !isImage && !isLabels && NameIs(ref reader, "scores");
            reader.Read();
            if (isImage)
            {
                if (reader.TokenType == JsonTokenType.Null) imageLength = 0;
                else if (reader.TokenType != JsonTokenType.String) (field, problem) = ("image", "The image must be a string (a file name).");
                else if (!TryCopy(ref reader, _imageText, out imageLength)) (field, problem) = ("image", "The image file name is too long.");
            }
            else if (isLabels)
            {
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) { (field, problem) = ("labels", "labels must be an array."); reader.TrySkip(); continue; }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var j = labelCount++;
                    if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.TrySkip();
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number))
                        (field, problem) = ($"labels[{j}]", "Each label must be a string (wnid) or a number (class index).");
                    else if (j < MaxK && !TryCopy(ref reader, _labelText[j], out _labelLength[j]))
                        (field, problem) = ($"labels[{j}]", "The label is too long to be a wnid or class index.");
                }
            }
            else if (isScores)
            {
                if (reader.TokenType == JsonTokenType.Null) continue;
                if (reader.TokenType != JsonTokenType.StartArray) { (field, problem) = ("scores", "scores must be an array of numbers."); reader.TrySkip(); continue; }
                var values = new List<float>(MaxK);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetSingle(out var score)) values.Add(score);
                    else
                    {
                        if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.TrySkip();
                        (field, problem) = ("scores", "Each score must be a number.");
                    }
                }
                scores = [.. values];
            }
            else reader.TrySkip();
        }
        if (problem is not null)
        {
            RowCount++;
            Errors.Add(line, field!, problem);
            return;
        }
        Add(line, imageLength < 0 ? [] : _imageText.AsSpan(0, imageLength), labelCount, _labelAt, scores);
    }

    /// <summary>Property names match as System.Text.Json's web defaults do: ignoring case.</summary>
    private static bool NameIs(ref Utf8JsonReader reader, string property) =>
        reader.ValueIsEscaped
            ? string.Equals(reader.GetString(), property, StringComparison.OrdinalIgnoreCase)
            : System.Text.Ascii.EqualsIgnoreCase(reader.ValueSpan, property);

    /// <summary>A string or number token as text, unescaped, into a fixed buffer; false when it does not fit.</summary>
    private static bool TryCopy(ref Utf8JsonReader reader, char[] buffer, out int length)
    {
        length = 0;
        if (reader.TokenType == JsonTokenType.String)
        {
            if (reader.ValueSpan.Length > buffer.Length) return false;
            length = reader.CopyString(buffer);
            return true;
        }
        var digits = reader.ValueSpan;
        if (digits.Length > buffer.Length) return false;
        length = System.Text.Encoding.UTF8.GetChars(digits, buffer);
        return true;
    }

    /// <summary>CSV with a header "image,label1,…,labelk" and optionally ",score1,…,scorek"; line = line number, from 1.</summary>
    public async Task ParseCsvAsync(Stream body, CancellationToken ct)
    {
        SepReader reader;
        try
        {
            reader = await Sep.New(',').Reader(o => o with { HasHeader = true, Unescape = true, DisableColCountCheck = true })
                .FromAsync(body, ct);
        }
        catch (ArgumentException e)
        {
            // Sep refuses a header that names a column twice.
            Errors.Add(1, "header", $"The header is not valid: {Shorten(e.Message)}");
            return;
        }
        using var _ = reader;
        var header = reader.Header.ColNames;
        if (reader.Header.IsEmpty || header.Count == 0 || (header.Count == 1 && header[0].Trim().Length == 0))
        {
            Errors.Add(1, "body", "The CSV is empty; expected a header 'image,label1,…,labelk'.");
            return;
        }
        var labelColumns = new List<int>();
        var scoreColumns = new List<int>();
        var imageColumn = -1;
        for (var c = 0; c < header.Count; c++)
        {
            var name = header[c].Trim().ToLowerInvariant();
            if (name is "image" or "file_name" or "filename" or "file" && imageColumn < 0) imageColumn = c;
            else if (name == $"label{labelColumns.Count + 1}") labelColumns.Add(c);
            else if (name == $"score{scoreColumns.Count + 1}") scoreColumns.Add(c);
            else
            {
                Errors.Add(1, "header", $"Unexpected column '{Shorten(name)}': expected 'image,label1,…,labelk' and optionally 'score1,…,scorek'.");
                return;
            }
        }
        if (imageColumn < 0) { Errors.Add(1, "header", "The header has no 'image' column."); return; }
        if (labelColumns.Count is 0 or > MaxK) { Errors.Add(1, "header", $"The header has {labelColumns.Count} label columns; give 1 to {MaxK}."); return; }
        if (scoreColumns.Count != 0 && scoreColumns.Count != labelColumns.Count)
        {
            Errors.Add(1, "header", $"{scoreColumns.Count} score columns for {labelColumns.Count} label columns.");
            return;
        }

        var columns = header.Count;
        var labelValues = new string[labelColumns.Count];
        (K, _kLine, _kFixed) = (labelColumns.Count, 1, true);
        await foreach (var row in reader)
        {
            var line = row.LineNumberFrom;
            if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty) continue;
            if (row.ColCount != columns)
            {
                RowCount++;
                Errors.Add(line, "row", $"Expected {columns} columns as in the header, found {row.ColCount}.");
                continue;
            }
            // Trailing empty label cells are left out (a spreadsheet pads every row to the header's k); an empty cell
            // before a filled one stays, and is reported as a missing label.
            var count = labelColumns.Count;
            while (count > 1 && row[labelColumns[count - 1]].Span.Trim().IsEmpty) count--;
            float[]? scores = null;
            var anyScore = false;
            foreach (var c in scoreColumns) anyScore |= !row[c].Span.Trim().IsEmpty;
            if (anyScore)
            {
                // Scores go with the labels given; a score beside an empty label cell is one too many.
                var given = scoreColumns.Count;
                while (given > count && row[scoreColumns[given - 1]].Span.Trim().IsEmpty) given--;
                scores = new float[given];
                for (var j = 0; j < scores.Length; j++)
                    if (!float.TryParse(row[scoreColumns[j]].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out scores[j]))
                    {
                        scores[j] = float.NaN;
                    }
            }
            // Sep's columns are spans over its buffer: resolve labels before the next row is read.
            for (var j = 0; j < count; j++) labelValues[j] = row[labelColumns[j]].ToString();
            Add(line, row[imageColumn].Span, count, j => labelValues[j], scores);
        }
    }
}
