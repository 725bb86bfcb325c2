using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Features.Interop;

/// <summary>Creates review items in bulk (binary COPY into a temporary table, one upsert) and returns their ids.</summary>
public static class ReviewItemsBulk
{
    public static async Task<Dictionary<(long ImageId, string Wnid), long>> EnsureAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<(long ImageId, string Wnid)> pairs, bool control, CancellationToken ct)
    {
        await connection.ExecuteAsync(
            "create temporary table import_pairs (image_id bigint not null, wnid text not null) on commit drop", transaction: transaction);
        await using (var copy = await connection.BeginBinaryImportAsync("copy import_pairs (image_id, wnid) from stdin (format binary)", ct))
        {
            foreach (var (imageId, wnid) in pairs.Distinct())
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(imageId, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(wnid, NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }
        await connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid, control)
            select image_id, wnid, @control from import_pairs
            on conflict (image_id, wnid) do update set control = review_items.control or excluded.control
            where @control and not review_items.control
            """,
            new { control }, transaction);
        var ids = new Dictionary<(long, string), long>();
        await using (var reader = await connection.BeginBinaryExportAsync(
            "copy (select r.image_id, r.wnid, r.id from review_items r join import_pairs p using (image_id, wnid)) to stdout (format binary)", ct))
            while (await reader.StartRowAsync(ct) != -1)
            {
                var imageId = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
                var wnid = await reader.ReadAsync<string>(NpgsqlDbType.Text, ct);
                ids[(imageId, wnid)] = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            }
        await connection.ExecuteAsync("drop table import_pairs", transaction: transaction);
        return ids;
    }

    /// <summary>The verdict source for an import or an external rater, created on first use.</summary>
    public static Task<long> SourceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, string kind, string description) =>
        connection.ExecuteScalarAsync<long>(
            """
            with inserted as (
                insert into verdict_sources (name, kind, description) values (@name, @kind, @description)
                on conflict (name) do nothing returning id
            )
            select id from inserted union all select id from verdict_sources where name = @name limit 1
            """,
            new { name, kind, description }, transaction);
}
