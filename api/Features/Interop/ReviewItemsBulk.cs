using Dapper;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Features.Review;

namespace Relabel.Api.Features.Interop;

/// <summary>Creates review items in bulk (binary COPY into a temporary table, one insert) and returns their ids.</summary>
public static class ReviewItemsBulk
{
    public static async Task<Dictionary<(long ImageId, string Wnid), long>> EnsureAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<(long ImageId, string Wnid)> pairs, bool control, CancellationToken ct)
    {
        var questions = pairs.Distinct().ToList();
        var (ids, _) = await EnsureAsync(connection, transaction, questions, states: null, control, ct);
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
    public static async Task<(long[] Ids, int ChangedStates)> EnsureAsync(
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

        // Existing items are locked as an upsert would lock them; new ones are written once, already in their state.
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
        if (existing > 0 || inserted < questions.Count)
        {
            if (states is not null)
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
        }

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
