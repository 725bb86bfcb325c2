using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>
/// Writes boards as JSON: the board without rows, with the rows' JSON put in place of its empty list. A row's JSON is
/// made once per row object (rows unchanged since the last board are the same objects), so after a verdict only the
/// rows it changed are written again; and of those, the parts the verdict left alone (the same objects: see
/// Boards.BuildRow) are copied from the entry's row written before.
/// </summary>
public sealed class BoardJson
{
    private readonly JsonSerializerOptions _options;
    private readonly ConditionalWeakTable<LeaderboardRow, RowJson> _rowJson = new();
    private readonly ConditionalWeakTable<LeaderboardRow, RowJson>.CreateValueCallback _write;
    // The row of each entry written last (any board): where the next row of the entry finds parts to copy.
    private readonly ConcurrentDictionary<string, LeaderboardRow> _last = new();

    // The rows by the serializer's generated code (about a third faster than by reflection: a zoo verdict writes 730 rows
    // again), with the API's options; their JSON is the same bytes (BoardJsonTests).
    private readonly JsonTypeInfo<LeaderboardRow> _row;

    private static readonly byte[] EmptyRows = "\"rows\":[]"u8.ToArray();

    // One buffer and writer per thread that writes rows (the rows are written in parallel), and the row it writes.
    private readonly ThreadLocal<(ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)> _writers;
    private readonly ThreadLocal<RowParts> _parts = new(() => new RowParts());

    public BoardJson(JsonSerializerOptions options)
    {
        _options = options;
        _write = Write;
        _writers = new(() =>
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            return (buffer, new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented }));
        });
        var plain = new RowJsonContext(new JsonSerializerOptions(options));
        // A part's JSON does not depend on where it stands, unless indented.
        _row = options.WriteIndented ? plain.LeaderboardRow : new RowJsonContext(new JsonSerializerOptions(options)
        {
            Converters =
            {
                new PartJson<Score>(plain.Score, _parts), new PartJson<MultiLabelResult>(plain.MultiLabelResult, _parts),
                new PartJson<SubsetResult>(plain.SubsetResult, _parts), new PartJson<ShiftResult>(plain.ShiftResult, _parts),
            },
        }).LeaderboardRow;
    }

    public byte[] Serialize(LeaderboardResponse board)
    {
        var frame = JsonSerializer.SerializeToUtf8Bytes(board with { Rows = [] }, _options);
        // Property names are written unescaped and strings never hold an unescaped quote, so this is the rows property.
        var found = frame.AsSpan().IndexOf(EmptyRows);
        if (found < 0) return JsonSerializer.SerializeToUtf8Bytes(board, _options);
        var at = found + EmptyRows.Length - 1;
        // Spread over the cores: after a zoo verdict, about 730 rows of 2 KB each are written again.
        var rows = new byte[board.Rows.Length][];
        Parallel.For(0, rows.Length, i => rows[i] = _rowJson.GetValue(board.Rows[i], _write).Json);
        // Every byte is written below: no need to clear 2 MB first.
        var result = GC.AllocateUninitializedArray<byte>(frame.Length + rows.Sum(r => r.Length) + Math.Max(0, rows.Length - 1));
        frame.AsSpan(0, at).CopyTo(result);
        var n = at;
        for (var i = 0; i < rows.Length; i++)
        {
            if (i > 0) result[n++] = (byte)',';
            rows[i].CopyTo(result, n);
            n += rows[i].Length;
        }
        frame.AsSpan(at).CopyTo(result.AsSpan(n));
        return result;
    }

    /// <summary>
    /// A row's JSON, kept on the pinned object heap: it lives as long as its row (across many boards), and a zoo verdict
    /// writes 1.5 MB of it that every young-generation collection would otherwise copy onward.
    /// </summary>
    private RowJson Write(LeaderboardRow row)
    {
        var (buffer, writer) = _writers.Value;
        var parts = _parts.Value!;
        parts.Previous = _last.TryGetValue(row.Slug, out var last) && _rowJson.TryGetValue(last, out var known) ? known : null;
        parts.Written.Clear();
        parts.Buffer = buffer;
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, row, _row);
        writer.Flush();
        var json = GC.AllocateUninitializedArray<byte>(buffer.WrittenCount, pinned: true);
        buffer.WrittenSpan.CopyTo(json);
        _last[row.Slug] = row;
        parts.Previous = null;
        // An array's second and later elements begin where their separator does.
        var written = parts.Written.Select(p => json[p.Start] == ',' ? p with { Start = p.Start + 1, Length = p.Length - 1 } : p).ToArray();
        return new RowJson(json, written);
    }
}

/// <summary>A row's JSON and where each of its parts stands in it.</summary>
internal sealed record RowJson(byte[] Json, RowPart[] Parts)
{
    /// <summary>The JSON of this part object in this row, if it is one of its parts.</summary>
    public ReadOnlySpan<byte> Find(object part) => RowPart.Of(Parts, part) is { } p ? Json.AsSpan(p.Start, p.Length) : default;
}

internal readonly record struct RowPart(object Value, int Start, int Length)
{
    /// <summary>Where this part object stands among these parts, if it is one of them.</summary>
    public static RowPart? Of(ReadOnlySpan<RowPart> parts, object part)
    {
        foreach (var p in parts)
            if (ReferenceEquals(p.Value, part)) return p;
        return null;
    }
}

/// <summary>The row a thread is writing: the parts written so far, where, and the entry's row written before.</summary>
internal sealed class RowParts
{
    public RowJson? Previous;
    public readonly List<RowPart> Written = new(16);
    public ArrayBufferWriter<byte>? Buffer;

    /// <summary>This part object, if the row holds it twice and wrote it already (the board's definition's result is
    /// its strict or lenient one too).</summary>
    public RowPart? Earlier(object part) => RowPart.Of(CollectionsMarshal.AsSpan(Written), part);
}

/// <summary>
/// Writes a part of a row (a score, a subset's result) as the serializer writes it, or copies its JSON from the entry's
/// row written before, or from earlier in this row, when it is the same object there; and notes where it stands in the row.
/// </summary>
internal sealed class PartJson<T>(JsonTypeInfo<T> plain, ThreadLocal<RowParts> rows) : JsonConverter<T> where T : class
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Board rows are written, never read.");

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        var row = rows.Value!;
        var start = writer.BytesCommitted + writer.BytesPending;
        var known = row.Previous is { } previous ? previous.Find(value) : default;
        if (!known.IsEmpty) writer.WriteRawValue(known, skipInputValidation: true);
        else if (row.Earlier(value) is { } earlier)
        {
            // Its bytes are in the row's buffer once the writer flushes; copied out, since writing may move them.
            writer.Flush();
            var bytes = row.Buffer!.WrittenSpan.Slice(earlier.Start, earlier.Length);
            if (bytes[0] == ',') bytes = bytes[1..];
            Span<byte> copy = bytes.Length <= 1024 ? stackalloc byte[bytes.Length] : new byte[bytes.Length];
            bytes.CopyTo(copy);
            writer.WriteRawValue(copy, skipInputValidation: true);
        }
        else JsonSerializer.Serialize(writer, value, plain);
        row.Written.Add(new RowPart(value, (int)start, (int)(writer.BytesCommitted + writer.BytesPending - start)));
    }
}

[JsonSerializable(typeof(LeaderboardRow))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class RowJsonContext : JsonSerializerContext;
