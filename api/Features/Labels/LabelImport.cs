using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Features.Labels;

/// <summary>
/// Bulk appends in the caller's transaction: review items created in bulk (binary COPY into a temporary table, one
/// insert), the authors of imported events (verdict sources), and <see cref="BulkAppend"/> for the events themselves.
/// </summary>
public static class LabelImport
{
    /// <summary>The items of (image, wnid) pairs, created where missing; returns their ids by pair.</summary>
    public static async Task<Dictionary<(long ImageId, string Wnid), long>> EnsureItemsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<(long ImageId, string Wnid)> pairs, bool control, CancellationToken ct)
    {
        var questions = pairs.Distinct().ToList();
        var (ids, _) = await EnsureItemsAsync(connection, transaction, questions, states: null, control, ct);
        var byPair = new Dictionary<(long ImageId, string Wnid), long>(questions.Count);
        for (var i = 0; i < questions.Count; i++) byPair[questions[i]] = ids[i];
        return byPair;
    }

    /// <summary>
    /// The items of distinct questions, created where missing (ids in the given order); returns their ids by position and
    /// how many item states changed. With <paramref name="states"/>, each item takes its state (its version counting the
    /// change); without, new items are pending and existing ones keep theirs. With <paramref name="control"/>, all become
    /// control questions (none stops being one).
    /// </summary>
    public static async Task<(long[] Ids, int ChangedStates)> EnsureItemsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(long ImageId, string Wnid)> questions,
        IReadOnlyList<string>? states, bool control, CancellationToken ct)
    {
        await connection.ExecuteAsync(
            """
            create temporary table import_questions (
                question integer not null, image_id bigint not null, wnid text not null, state text not null
            ) on commit drop
            """,
            transaction: transaction);
        await using (var copy = await connection.BeginBinaryImportAsync(
                         "copy import_questions (question, image_id, wnid, state) from stdin (format binary)", ct))
        {
            for (var i = 0; i < questions.Count; i++)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(i, NpgsqlDbType.Integer, ct);
                await copy.WriteAsync(questions[i].ImageId, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(questions[i].Wnid, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(states?[i] ?? ItemStates.Pending, NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }
        // Statistics for the joins below (a temporary table has none).
        await connection.ExecuteAsync("analyze import_questions", transaction: transaction);
        var changed = await InsertOrUpdateItemsAsync(connection, transaction, questions.Count, states is not null, control);

        var ids = new long[questions.Count];
        await using (var reader = await connection.BeginBinaryExportAsync(
                         """
                         copy (select q.question, r.id from import_questions q join review_items r on r.image_id = q.image_id and r.wnid = q.wnid)
                         to stdout (format binary)
                         """, ct))
            while (await reader.StartRowAsync(ct) != -1)
            {
                var question = await reader.ReadAsync<int>(NpgsqlDbType.Integer, ct);
                ids[question] = await reader.ReadAsync<long>(NpgsqlDbType.Bigint, ct);
            }
        await connection.ExecuteAsync("drop table import_questions", transaction: transaction);
        return (ids, changed);
    }

    /// <summary>From import_questions: new items are written once, in their state; existing ones are locked, then updated.</summary>
    private static async Task<int> InsertOrUpdateItemsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int questions, bool withStates, bool control)
    {
        // Existing items are locked as an upsert would lock them.
        var existing = await connection.ExecuteScalarAsync<long>(
            """
            select count(*) from (
                select from import_questions q join review_items r on r.image_id = q.image_id and r.wnid = q.wnid
                for no key update of r
            ) existing
            """,
            transaction: transaction);
        var (inserted, changed) = await connection.QuerySingleAsync<(int, int)>(
            """
            with inserted as (
                insert into review_items (image_id, wnid, control, state, version)
                select image_id, wnid, @control, state, (state <> 'pending')::int from import_questions order by question
                on conflict (image_id, wnid) do nothing
                returning state
            )
            select count(*)::int, (count(*) filter (where state <> 'pending'))::int from inserted
            """,
            new { control }, transaction);
        // Items another writer created meanwhile were not inserted here either.
        if (existing == 0 && inserted == questions) return changed;
        if (withStates)
            changed += await connection.ExecuteAsync(
                """
                update review_items r set state = q.state, version = r.version + 1
                from import_questions q where r.image_id = q.image_id and r.wnid = q.wnid and r.state <> q.state
                """,
                transaction: transaction);
        if (control)
            await connection.ExecuteAsync(
                """
                update review_items r set control = true
                from import_questions q where r.image_id = q.image_id and r.wnid = q.wnid and not r.control
                """,
                transaction: transaction);
        return changed;
    }

    /// <summary>
    /// The (image, label) pairs that reviewers decide for an upload: every predicted image's original label and each
    /// model's top-1 prediction. Pairs already present keep their state.
    /// </summary>
    public static Task EnsureItemsForUploadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long uploadId) =>
        connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid)
            select p.image_id, c.wnid
            from predictions p
            join prediction_uploads u on u.id = p.upload_id
            join datasets d on d.id = u.dataset_id
            join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = p.labels[1]
            where p.upload_id = @uploadId
            union
            select i.id, i.original_wnid
            from predictions p
            join images i on i.id = p.image_id
            where p.upload_id = @uploadId
            on conflict (image_id, wnid) do nothing
            """,
            new { uploadId }, transaction);

    /// <summary>A review item of a dataset, with its image's file name.</summary>
    public sealed record DatasetItem(long Id, long ImageId, string FileName, string Wnid);

    /// <summary>Adds every image's original label as an item, then locks and returns all of the dataset's items.</summary>
    public static async Task<List<DatasetItem>> EnsureOriginalItemsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId)
    {
        await connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid)
            select id, original_wnid from images where dataset_id = @datasetId
            on conflict (image_id, wnid) do nothing
            """,
            new { datasetId }, transaction);
        return (await connection.QueryAsync<DatasetItem>(
            """
            select r.id, r.image_id, i.file_name, r.wnid
            from review_items r join images i on i.id = r.image_id
            where i.dataset_id = @datasetId
            order by r.id
            for update of r
            """,
            new { datasetId }, transaction)).ToList();
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

    /// <summary>Verdict sources by name, created where missing; returns their ids in the given order and how many were created.</summary>
    public static async Task<(long[] Ids, int Created)> SourcesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] names, string[] kinds, string[] descriptions)
    {
        var created = await connection.ExecuteAsync(
            """
            insert into verdict_sources (name, kind, description)
            select n, k, coalesce(d, '') from unnest(@names::text[], @kinds::text[], @descriptions::text[]) as t(n, k, d)
            on conflict (name) do nothing
            """,
            new { names, kinds, descriptions }, transaction);
        var ids = (await connection.QueryAsync<(string Name, long Id)>(
            "select name, id from verdict_sources where name = any(@names)", new { names }, transaction)).ToDictionary(s => s.Name, s => s.Id);
        return (names.Select(n => ids[n]).ToArray(), created);
    }

    /// <summary>
    /// Begins a bulk append of events to a dataset whose row the caller holds FOR UPDATE, at its label version
    /// <paramref name="labelVersion"/>: the events carry the next version until <see cref="BulkAppend"/> finishes.
    /// </summary>
    public static async Task<BulkAppend> BeginAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, long labelVersion)
    {
        var (firstEvent, firstFlag) = await connection.QuerySingleAsync<(long, long)>(
            "select (select coalesce(max(id), 0) from verdict_events), (select coalesce(max(id), 0) from image_flag_events)",
            transaction: transaction);
        return new BulkAppend(connection, transaction, datasetId, labelVersion, firstEvent, firstFlag);
    }
}
