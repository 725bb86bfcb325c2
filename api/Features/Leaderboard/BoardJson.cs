using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>
/// Writes boards as JSON: the board without rows, with the rows' JSON put in place of its empty list. A row's JSON is
/// made once per row object (rows unchanged since the last board are the same objects), so after a verdict only the
/// rows it changed are written again.
/// </summary>
public sealed class BoardJson(JsonSerializerOptions options)
{
    private readonly ConditionalWeakTable<LeaderboardRow, byte[]> _rowJson = new();

    // The rows by the serializer's generated code (about a third faster than by reflection: a zoo verdict writes 730 rows
    // again), with the API's options; their JSON is the same bytes (BoardJsonTests).
    private readonly JsonTypeInfo<LeaderboardRow> _row = new RowJsonContext(new JsonSerializerOptions(options)).LeaderboardRow;

    private static readonly byte[] EmptyRows = "\"rows\":[]"u8.ToArray();

    // One buffer and writer per thread that writes rows (the rows are written in parallel).
    private readonly ThreadLocal<(ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)> _writers = new(() =>
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        return (buffer, new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented }));
    });

    public byte[] Serialize(LeaderboardResponse board)
    {
        var frame = JsonSerializer.SerializeToUtf8Bytes(board with { Rows = [] }, options);
        // Property names are written unescaped and strings never hold an unescaped quote, so this is the rows property.
        var found = frame.AsSpan().IndexOf(EmptyRows);
        if (found < 0) return JsonSerializer.SerializeToUtf8Bytes(board, options);
        var at = found + EmptyRows.Length - 1;
        // Spread over the cores: after a zoo verdict, about 730 rows of 2 KB each are written again.
        var rows = new byte[board.Rows.Length][];
        Parallel.For(0, rows.Length, i => rows[i] = _rowJson.GetValue(board.Rows[i], Write));
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
    private byte[] Write(LeaderboardRow row)
    {
        var (buffer, writer) = _writers.Value;
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, row, _row);
        writer.Flush();
        var json = GC.AllocateUninitializedArray<byte>(buffer.WrittenCount, pinned: true);
        buffer.WrittenSpan.CopyTo(json);
        return json;
    }
}

[JsonSerializable(typeof(LeaderboardRow))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class RowJsonContext : JsonSerializerContext;
