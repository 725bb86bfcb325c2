using Npgsql;
using NpgsqlTypes;

namespace Relabel.Bench;

/// <summary>
/// Seeds prediction_blocks directly (the benchmarks do not reference the API): the layout of migration 0020, as
/// PredictionStore.CopyBlocksAsync writes it, for rows without scores.
/// </summary>
public static class PredictionBlocks
{
    private const int BlockSize = 128;

    public static async Task WriteAsync(NpgsqlBinaryImporter copy, long uploadId, IEnumerable<(long ImageId, short[] Labels)> rows, CancellationToken ct)
    {
        var sorted = rows.OrderBy(r => r.ImageId).ToList();
        var start = 0;
        while (start < sorted.Count)
        {
            var block = sorted[start].ImageId / BlockSize;
            var end = start;
            var k = 1;
            for (; end < sorted.Count && sorted[end].ImageId / BlockSize == block; end++) k = Math.Max(k, sorted[end].Labels.Length);
            var labels = new short[((int)(sorted[end - 1].ImageId % BlockSize) + 1) * k];
            Array.Fill(labels, (short)-1);
            for (var r = start; r < end; r++) sorted[r].Labels.CopyTo(labels, (int)(sorted[r].ImageId % BlockSize) * k);
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(uploadId, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(block, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync((short)k, NpgsqlDbType.Smallint, ct);
            await copy.WriteAsync(labels, NpgsqlDbType.Array | NpgsqlDbType.Smallint, ct);
            await copy.WriteNullAsync(ct);
            start = end;
        }
    }
}
