using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Review;

/// <summary>A verdict to append to an item's log.</summary>
public sealed record NewVerdict(long ItemId, string Verdict, string Note, bool Adjudication);

/// <summary>A problematic flag to append to an image's log.</summary>
public sealed record NewFlag(long ImageId, bool Problematic, string? Reason, string Note);

/// <summary>
/// What a write appended and changed. When it changed labels, its label version is taken at commit (see
/// migration 0009): read it afterwards with <see cref="ReviewWriter.CommittedLabelVersionAsync"/>.
/// </summary>
public sealed record WriteOutcome(int Events, int ChangedItems, int ChangedFlags, long? FirstEventId, long? FirstFlagEventId, IReadOnlyList<ItemStateResponse> Items);

/// <summary>
/// Appends verdict and flag events and re-derives what they decide, inside the caller's transaction.
/// The caller holds FOR KEY SHARE on the dataset row and FOR UPDATE on the items (and image_states rows) it writes.
/// When an item state or a problematic flag changes, the dataset's label version goes up by one, a label_versions
/// row records the counts, and the new events carry that version; otherwise they carry the current one.
/// </summary>
public static class ReviewWriter
{
    private sealed record EventRow(long Id, long ItemId, string Author, string Verdict, bool Adjudication);

    private sealed record ItemRow(long Id, string State, int Version);

    public static async Task<WriteOutcome> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule,
        long? reviewerId, long? sourceId, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags, double? secondsSpent)
    {
        var author = reviewerId is not null ? $"u{reviewerId}" : $"s{sourceId}";
        var itemIds = verdicts.Select(v => v.ItemId).Distinct().ToArray();
        var items = (await connection.QueryAsync<ItemRow>(
            "select id, state, version from review_items where id = any(@itemIds)", new { itemIds }, transaction)).ToDictionary(i => i.Id);
        var events = (await connection.QueryAsync<EventRow>(
            """
            select id, item_id, coalesce('u' || reviewer_id, 's' || source_id) as author, verdict, adjudication
            from verdict_events where item_id = any(@itemIds)
            """,
            new { itemIds }, transaction)).ToLookup(e => e.ItemId);

        var added = verdicts.ToLookup(v => v.ItemId);
        var newStates = new Dictionary<long, string>();
        foreach (var itemId in itemIds)
        {
            // New events come after every stored one: give them ids beyond any stored id, in submission order.
            var log = events[itemId].Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)).ToList();
            var next = long.MaxValue - verdicts.Count;
            log.AddRange(added[itemId].Select(v => new VerdictEvent(next++, author, v.Verdict, v.Adjudication)));
            newStates[itemId] = Consensus.Decide(log, rule);
        }
        var changedItems = itemIds.Count(id => newStates[id] != items[id].State);

        var flagImages = flags.Select(f => f.ImageId).Distinct().ToArray();
        var currentFlags = flagImages.Length == 0 ? [] : (await connection.QueryAsync<(long ImageId, bool Problematic)>(
            "select image_id, problematic from image_states where image_id = any(@flagImages)", new { flagImages }, transaction))
            .ToDictionary(r => r.ImageId, r => r.Problematic);
        var finalFlags = flags.GroupBy(f => f.ImageId).ToDictionary(g => g.Key, g => g.Last());
        var changedFlags = finalFlags.Count(f => f.Value.Problematic != currentFlags.GetValueOrDefault(f.Key));

        // Events are written with the current version; a write that changes labels is restamped at commit.
        var labelVersion = await connection.ExecuteScalarAsync<long>(
            "select label_version from datasets where id = @datasetId", new { datasetId }, transaction);

        var seconds = secondsSpent is { } s && verdicts.Count > 0 ? (float?)(s / verdicts.Count) : null;
        var eventIds = verdicts.Count == 0 ? [] : (await connection.QueryAsync<long>(
            """
            insert into verdict_events (item_id, reviewer_id, source_id, verdict, adjudication, note, seconds_spent, label_version)
            select t.item_id, @reviewerId, @sourceId, t.verdict, t.adjudication, t.note, @seconds, @labelVersion
            from unnest(@ids, @values, @adjudications, @notes) with ordinality as t(item_id, verdict, adjudication, note, position)
            order by t.position
            returning id
            """,
            new
            {
                reviewerId,
                sourceId,
                seconds,
                labelVersion,
                ids = verdicts.Select(v => v.ItemId).ToArray(),
                values = verdicts.Select(v => v.Verdict).ToArray(),
                adjudications = verdicts.Select(v => v.Adjudication).ToArray(),
                notes = verdicts.Select(v => v.Note).ToArray(),
            },
            transaction)).ToArray();

        var updated = (await connection.QueryAsync<ItemStateResponse>(
            """
            update review_items r set state = t.state, version = r.version + 1
            from unnest(@itemIds, @states) as t(id, state)
            where r.id = t.id
            returning r.id as item_id, r.state, r.version
            """,
            new { itemIds, states = itemIds.Select(id => newStates[id]).ToArray() }, transaction)).OrderBy(i => i.ItemId).ToList();

        var flagEventIds = new List<long>();
        foreach (var flag in flags)
            flagEventIds.Add(await connection.ExecuteScalarAsync<long>(
                """
                insert into image_flag_events (image_id, reviewer_id, source_id, problematic, reason, note, label_version)
                values (@ImageId, @reviewerId, @sourceId, @Problematic, @Reason, @Note, @labelVersion)
                returning id
                """,
                new { flag.ImageId, reviewerId, sourceId, flag.Problematic, flag.Reason, flag.Note, labelVersion }, transaction));
        if (finalFlags.Count > 0)
            await connection.ExecuteAsync(
                """
                insert into image_states (image_id, problematic, reason, version)
                select image_id, problematic, reason, 1 from unnest(@images, @problematic, @reasons) as t(image_id, problematic, reason)
                on conflict (image_id) do update
                set problematic = excluded.problematic, reason = excluded.reason, version = image_states.version + 1
                """,
                new
                {
                    images = finalFlags.Keys.ToArray(),
                    problematic = finalFlags.Values.Select(f => f.Problematic).ToArray(),
                    reasons = finalFlags.Values.Select(f => f.Reason).ToArray(),
                },
                transaction);

        if (changedItems > 0 || changedFlags > 0)
            await connection.ExecuteAsync(
                """
                insert into label_version_requests (dataset_id, changed_items, changed_flags, event_ids, flag_event_ids)
                values (@datasetId, @changedItems, @changedFlags, @eventIds, @flagEventIds)
                """,
                new { datasetId, changedItems, changedFlags, eventIds, flagEventIds = flagEventIds.ToArray() }, transaction);

        return new WriteOutcome(verdicts.Count + flags.Count, changedItems, changedFlags,
            eventIds.Length > 0 ? eventIds[0] : null, flagEventIds.Count > 0 ? flagEventIds[0] : null, updated);
    }

    /// <summary>
    /// Re-derives every item of a dataset under its (new) rule; the caller holds FOR UPDATE on the dataset row.
    /// Returns how many items changed; a change is one new label version.
    /// </summary>
    public static async Task<(int Changed, long LabelVersion)> RederiveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule)
    {
        var items = (await connection.QueryAsync<ItemRow>(
            """
            select r.id, r.state, r.version from review_items r join images i on i.id = r.image_id
            where i.dataset_id = @datasetId
            for update of r
            """,
            new { datasetId }, transaction)).ToList();
        var events = (await connection.QueryAsync<EventRow>(
            """
            select e.id, e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id) as author, e.verdict, e.adjudication
            from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            where i.dataset_id = @datasetId
            """,
            new { datasetId }, transaction)).ToLookup(e => e.ItemId);
        var changed = items
            .Select(i => (i.Id, Old: i.State, New: Consensus.Decide(
                events[i.Id].Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)), rule)))
            .Where(c => c.Old != c.New)
            .ToList();
        if (changed.Count == 0)
            return (0, await connection.ExecuteScalarAsync<long>("select label_version from datasets where id = @datasetId", new { datasetId }, transaction));

        await connection.ExecuteAsync(
            """
            update review_items r set state = t.state, version = r.version + 1
            from unnest(@ids, @states) as t(id, state) where r.id = t.id
            """,
            new { ids = changed.Select(c => c.Id).ToArray(), states = changed.Select(c => c.New).ToArray() }, transaction);
        var version = await NewLabelVersionAsync(connection, transaction, datasetId, changed.Count, 0);
        return (changed.Count, version);
    }

    /// <summary>
    /// Opens the next label version of a dataset, recording how many item states and flags changed and the rule
    /// in force. It locks the dataset row until commit, so call it last in the transaction.
    /// </summary>
    public static Task<long> NewLabelVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, int changedItems, int changedFlags) =>
        connection.ExecuteScalarAsync<long>(
            """
            with bumped as (
                update datasets set label_version = label_version + 1 where id = @datasetId
                returning id, label_version, consensus_rule
            )
            insert into label_versions (dataset_id, version, changed_items, changed_flags, consensus_rule)
            select id, label_version, @changedItems, @changedFlags, consensus_rule from bumped
            returning version
            """,
            new { datasetId, changedItems, changedFlags }, transaction);

    /// <summary>The label version a committed write carries (the current one when it changed nothing).</summary>
    public static Task<long> CommittedLabelVersionAsync(NpgsqlConnection connection, long datasetId, WriteOutcome outcome) =>
        connection.ExecuteScalarAsync<long>(
            """
            select coalesce(
                (select label_version from verdict_events where id = @FirstEventId),
                (select label_version from image_flag_events where id = @FirstFlagEventId),
                (select label_version from datasets where id = @datasetId))
            """,
            new { outcome.FirstEventId, outcome.FirstFlagEventId, datasetId });
}
