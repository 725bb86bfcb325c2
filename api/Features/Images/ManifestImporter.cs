using Dapper;
using nietras.SeparatedValues;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Images;

public sealed record ManifestResult(long Rows, long Inserted, long Updated, LineErrors Errors);

/// <summary>
/// Registers images without bytes from CSV "file_name,label": streamed into a temporary table by binary COPY,
/// checked by set-based SQL (duplicates, unknown labels), then upserted in one statement. Re-running is a no-op.
/// </summary>
public static class ManifestImporter
{
    public static async Task<ManifestResult> ImportAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, long labelSpaceId, Stream body, CancellationToken ct)
    {
        var errors = new LineErrors();
        var labels = await LabelResolver.LoadAsync(connection, labelSpaceId, transaction);
        await connection.ExecuteAsync(
            "create temporary table manifest_rows (line bigint not null, file_name text not null, wnid text not null) on commit drop",
            transaction: transaction);

        long rows = 0;
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy manifest_rows (line, file_name, wnid) from stdin (format binary)", ct))
        {
            using var reader = await Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true })
                .FromAsync(body, ct);
            await foreach (var row in reader)
            {
                // Sep numbers the first row as line 2 when there is no header.
                var line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty) continue;
                var fileName = row[0].ToString().Trim();
                if (row.RowIndex == 0 && fileName is "file_name" or "filename" or "image" or "file") continue;
                rows++;
                if (row.ColCount != 2) { errors.Add(line, "row", $"Expected 2 columns 'file_name,label', found {row.ColCount}."); continue; }
                var label = row[1].ToString().Trim();
                if (fileName.Length is 0 or > 255) { errors.Add(line, "file_name", "Empty or longer than 255 characters."); continue; }
                if (labels.Resolve(label) is not { } wnid)
                {
                    errors.Add(line, "label", $"'{label}' is neither a class index (0-{labels.Count - 1}) nor a wnid of this dataset.");
                    continue;
                }
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(line, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(fileName, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(wnid, NpgsqlDbType.Text, ct);
            }
            if (rows == 0) errors.Add(1, "body", "The manifest has no rows.");
            await copy.CompleteAsync(ct);
        }

        var duplicates = await connection.QueryAsync<(long Line, string FileName, long FirstLine, long Total)>(
            """
            select line, file_name, first_line, count(*) over () as total
            from (select line, file_name, min(line) over (partition by file_name) as first_line from manifest_rows) m
            where line <> first_line
            order by line
            limit 100
            """,
            transaction: transaction);
        foreach (var d in duplicates)
            errors.Add(d.Line, "file_name", $"'{d.FileName}' is listed twice (first on line {d.FirstLine}).");
        errors.CountAtLeast(errors.Count - duplicates.Count() + duplicates.FirstOrDefault().Total);
        if (errors.Any) return new ManifestResult(rows, 0, 0, errors);

        var (inserted, updated) = await connection.QuerySingleAsync<(long, long)>(
            """
            with upserted as (
                insert into images (dataset_id, file_name, original_wnid)
                select @datasetId, file_name, wnid from manifest_rows
                on conflict (dataset_id, file_name) do update
                set original_wnid = excluded.original_wnid
                where images.original_wnid is distinct from excluded.original_wnid
                returning (xmax = 0) as inserted
            )
            select count(*) filter (where inserted), count(*) filter (where not inserted) from upserted
            """,
            new { datasetId }, transaction);
        return new ManifestResult(rows, inserted, updated, errors);
    }
}
