using Dapper;
using Relabel.Api.Features.Predictions;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// Writes what the leaderboard reads straight into the tables (models, uploads, prediction sets, predictions by
/// binary COPY, review items, verdict and flag events, image states), independent of the upload and review features.
/// </summary>
public sealed class ScoringSeed(NpgsqlDataSource db)
{
    public async Task<long> DatasetIdAsync(string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select id from datasets where slug = @slug", new { slug });
    }

    /// <summary>The dataset's image ids in sorted file-name order (the order of real.json and val_labels.txt).</summary>
    public async Task<long[]> ImageIdsAsync(string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryAsync<long>(
            "select i.id from images i join datasets d on d.id = i.dataset_id where d.slug = @slug order by i.file_name collate \"C\"",
            new { slug })).ToArray();
    }

    /// <summary>Creates the model if needed and makes these predictions (image id, ranked class indices) its current set.</summary>
    public async Task<long> PredictionsAsync(string dataset, string model, string kind, int k, IEnumerable<(long ImageId, short[] Labels)> rows)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var owner = await connection.ExecuteScalarAsync<long>("select id from users where name = 'admin'", transaction: transaction);
        var datasetId = await connection.ExecuteScalarAsync<long>("select id from datasets where slug = @dataset", new { dataset }, transaction);
        var modelId = await connection.ExecuteScalarAsync<long>(
            """
            insert into models (slug, display_name, kind, owner_id) values (@model, @model, @kind, @owner)
            on conflict (slug) do update set updated_at = now() returning id
            """,
            new { model, kind, owner }, transaction);
        var list = rows.ToList();
        var uploadId = await connection.ExecuteScalarAsync<long>(
            """
            insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
            values (@modelId, @datasetId, @owner, 'json', @count, @k, false, repeat('0', 64), 'applied', 0) returning id
            """,
            new { modelId, datasetId, owner, count = list.Count, k }, transaction);
        await PredictionStore.CopyBlocksAsync(connection, uploadId,
            list.Select(r => new PredictionRow(r.ImageId, r.Labels, null)).OrderBy(r => r.ImageId).ToList(), default);
        await connection.ExecuteAsync(
            """
            insert into prediction_sets (model_id, dataset_id, upload_id, k, rows, checksum) values (@modelId, @datasetId, @uploadId, @k, @count, repeat('0', 64))
            on conflict (model_id, dataset_id) do update set upload_id = excluded.upload_id, k = excluded.k, rows = excluded.rows, updated_at = now()
            """,
            new { modelId, datasetId, uploadId, k, count = list.Count }, transaction);
        await transaction.CommitAsync();
        return uploadId;
    }

    /// <summary>Sets review item states (creating the items) and bumps the dataset's label version once.</summary>
    public async Task<long> ItemStatesAsync(string dataset, IEnumerable<(long ImageId, string Wnid, string State)> items)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var list = items.ToList();
        await connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid, state)
            select * from unnest(@images, @wnids, @states)
            on conflict (image_id, wnid) do update set state = excluded.state, version = review_items.version + 1
            """,
            new { images = list.Select(i => i.ImageId).ToArray(), wnids = list.Select(i => i.Wnid).ToArray(), states = list.Select(i => i.State).ToArray() },
            transaction);
        var version = await BumpAsync(connection, transaction, dataset);
        await transaction.CommitAsync();
        return version;
    }

    /// <summary>Sets images' problematic state and bumps the label version.</summary>
    public async Task<long> ProblematicAsync(string dataset, IEnumerable<long> imageIds, bool problematic = true)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            """
            insert into image_states (image_id, problematic, reason) select unnest(@ids), @problematic, case when @problematic then 'other' end
            on conflict (image_id) do update set problematic = excluded.problematic, reason = excluded.reason
            """,
            new { ids = imageIds.ToArray(), problematic }, transaction);
        var version = await BumpAsync(connection, transaction, dataset);
        await transaction.CommitAsync();
        return version;
    }

    /// <summary>
    /// One label version made of verdict events (by reviewer account names) and flag events, applied to the derived
    /// tables the way the review feature does with the 'latest' rule.
    /// </summary>
    public async Task<long> VersionAsync(string dataset, IEnumerable<(long ImageId, string Wnid, string Reviewer, string Verdict)> verdicts,
        IEnumerable<(long ImageId, bool Problematic)>? flags = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var version = await BumpAsync(connection, transaction, dataset);
        foreach (var (imageId, wnid, reviewer, verdict) in verdicts)
        {
            var itemId = await connection.ExecuteScalarAsync<long>(
                """
                insert into review_items (image_id, wnid) values (@imageId, @wnid)
                on conflict (image_id, wnid) do update set version = review_items.version returning id
                """, new { imageId, wnid }, transaction);
            var reviewerId = await connection.ExecuteScalarAsync<long>(
                """
                insert into users (name, roles) values (@reviewer, array['reviewer'])
                on conflict (name) do update set name = excluded.name returning id
                """, new { reviewer }, transaction);
            await connection.ExecuteAsync(
                "insert into verdict_events (item_id, reviewer_id, verdict, label_version) values (@itemId, @reviewerId, @verdict, @version)",
                new { itemId, reviewerId, verdict, version }, transaction);
            if (verdict is "correct" or "wrong" or "unclear")
                await connection.ExecuteAsync("update review_items set state = @verdict where id = @itemId", new { verdict, itemId }, transaction);
        }
        foreach (var (imageId, problematic) in flags ?? [])
        {
            var reviewerId = await connection.ExecuteScalarAsync<long>("select id from users where name = 'admin'", transaction: transaction);
            await connection.ExecuteAsync(
                """
                insert into image_flag_events (image_id, reviewer_id, problematic, reason, note, label_version)
                values (@imageId, @reviewerId, @problematic, case when @problematic then 'other' end, 'test', @version)
                """, new { imageId, reviewerId, problematic, version }, transaction);
            await connection.ExecuteAsync(
                """
                insert into image_states (image_id, problematic, reason) values (@imageId, @problematic, case when @problematic then 'other' end)
                on conflict (image_id) do update set problematic = excluded.problematic, reason = excluded.reason
                """, new { imageId, problematic }, transaction);
        }
        await transaction.CommitAsync();
        return version;
    }

    private static async Task<long> BumpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string dataset)
    {
        var version = await connection.ExecuteScalarAsync<long>(
            "update datasets set label_version = label_version + 1 where slug = @dataset returning label_version", new { dataset }, transaction);
        await connection.ExecuteAsync(
            "insert into label_versions (dataset_id, version) select id, @version from datasets where slug = @dataset",
            new { dataset, version }, transaction);
        return version;
    }
}
