using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Labels;

/// <summary>
/// Appends verdict and flag events and re-derives what they decide, inside the caller's transaction. The only writer
/// of events, item states and label versions, with <see cref="ReviewerBatch"/> (the review submit) and
/// <see cref="LabelImport"/> (bulk appends by COPY). A write that changes an item state or a flag opens one new label
/// version (docs/architecture.md, "The label state").
/// </summary>
public static class LabelWriter
{
    /// <summary>Columns of a <see cref="StoredVerdict"/> from verdict_events aliased e.</summary>
    internal const string StoredVerdictColumns =
        "e.id, e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id) as author, e.verdict, e.adjudication";

    /// <summary>
    /// Appends one author's verdicts and flags in two round trips (one reads the basis, one writes). The caller holds
    /// FOR KEY SHARE (or FOR UPDATE) on the dataset row.
    /// </summary>
    public static async Task<WriteOutcome> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule,
        LabelAuthor author, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags)
    {
        var itemIds = verdicts.Select(v => v.ItemId).Distinct().ToArray();
        var flagImages = flags.Select(f => f.ImageId).Distinct().ToArray();
        using var read = await connection.QueryMultipleAsync(
            $"""
             select id, state, version from review_items where id = any(@itemIds);
             select {StoredVerdictColumns} from verdict_events e where e.item_id = any(@itemIds);
             select image_id, problematic from image_states where image_id = any(@flagImages);
             select label_version from datasets where id = @datasetId;
             """,
            new { itemIds, flagImages, datasetId }, transaction);
        var basis = new WriteBasis(
            (await read.ReadAsync<ItemVersion>()).ToDictionary(i => i.Id),
            (await read.ReadAsync<StoredVerdict>()).ToLookup(e => e.ItemId),
            (await read.ReadAsync<(long ImageId, bool Problematic)>()).ToDictionary(r => r.ImageId, r => r.Problematic),
            await read.ReadSingleAsync<long>());
        return await WriteAsync(connection, transaction, basis, datasetId, rule, author, verdicts, flags, null);
    }

    /// <summary>
    /// Writes on a basis read in this transaction, in one round trip. With <paramref name="afterCommit"/> the caller
    /// began with a plain "begin" (no <paramref name="transaction"/>) and the same round trip commits without waiting for
    /// the disk, then runs the after-commit write, whose own commit does wait: see <see cref="ReviewerBatch"/>.
    /// </summary>
    internal static async Task<WriteOutcome> WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, WriteBasis basis, long datasetId, string rule,
        LabelAuthor author, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags, double? secondsSpent,
        AfterCommit? afterCommit = null)
    {
        var commit = afterCommit is not null;
        if (commit && string.IsNullOrWhiteSpace(afterCommit!.Sql))
            throw new ArgumentException("A write that commits needs a writing statement after its commit to make it durable.", nameof(afterCommit));
        var itemIds = verdicts.Select(v => v.ItemId).Distinct().ToArray();
        var newStates = Decide(basis, rule, author, verdicts, itemIds);
        var changedItems = itemIds.Count(id => newStates[id] != basis.Items[id].State);
        var finalFlags = flags.GroupBy(f => f.ImageId).ToDictionary(g => g.Key, g => g.Last());
        var changedFlags = finalFlags.Count(f => f.Value.Problematic != basis.Problematic.GetValueOrDefault(f.Key));

        // Events are written with the current version; a write that changes labels is restamped at commit.
        var parameters = new DynamicParameters(new
        {
            datasetId,
            reviewerId = author.ReviewerId,
            sourceId = author.SourceId,
            seconds = secondsSpent is { } s && verdicts.Count > 0 ? (float?)(s / verdicts.Count) : null,
            basis.LabelVersion,
            ids = verdicts.Select(v => v.ItemId).ToArray(),
            values = verdicts.Select(v => v.Verdict).ToArray(),
            adjudications = verdicts.Select(v => v.Adjudication).ToArray(),
            notes = verdicts.Select(v => v.Note).ToArray(),
            flagImages = flags.Select(f => f.ImageId).ToArray(),
            flagProblematic = flags.Select(f => f.Problematic).ToArray(),
            flagReasons = flags.Select(f => f.Reason).ToArray(),
            flagNotes = flags.Select(f => f.Note).ToArray(),
            changed = changedItems > 0 || changedFlags > 0,
            changedItems,
            changedFlags,
            itemIds,
            states = itemIds.Select(id => newStates[id]).ToArray(),
            finalImages = finalFlags.Keys.ToArray(),
            finalProblematic = finalFlags.Values.Select(f => f.Problematic).ToArray(),
            finalReasons = finalFlags.Values.Select(f => f.Reason).ToArray(),
        });
        if (afterCommit is not null) parameters.AddDynamicParams(afterCommit.Parameters);
        using var write = await connection.QueryMultipleAsync(
            WriteSql + (commit ? "set local synchronous_commit = off;\ncommit;\n" + afterCommit!.Sql + "\n" + CommittedVersionSql(verdicts.Count, flags.Count) : ""),
            parameters, transaction);
        var ids = (await write.ReadAsync<(bool Flag, long Id)>()).ToList();
        var updated = (await write.ReadAsync<ItemStateResponse>()).OrderBy(i => i.ItemId).ToList();
        var flagStates = (await write.ReadAsync<(long ImageId, bool Problematic, string? Reason, int Version)>())
            .ToDictionary(f => f.ImageId, f => new ImageFlagState(f.Problematic, f.Reason, f.Version));
        var labelVersion = commit ? await write.ReadSingleAsync<long>() : basis.LabelVersion;
        var eventIds = ids.Where(i => !i.Flag).Select(i => i.Id).ToList();
        var flagEventIds = ids.Where(i => i.Flag).Select(i => i.Id).ToList();
        return new WriteOutcome(verdicts.Count + flags.Count, changedItems, changedFlags,
            eventIds.Count > 0 ? eventIds[0] : null, flagEventIds.Count > 0 ? flagEventIds[0] : null, labelVersion,
            updated, flagStates);
    }

    /// <summary>Each written item's state under the rule, its stored log followed by the new verdicts.</summary>
    private static Dictionary<long, string> Decide(
        WriteBasis basis, string rule, LabelAuthor author, IReadOnlyList<NewVerdict> verdicts, long[] itemIds)
    {
        var key = author.Key;
        var added = verdicts.ToLookup(v => v.ItemId);
        var states = new Dictionary<long, string>();
        foreach (var itemId in itemIds)
        {
            // New events come after every stored one: give them ids beyond any stored id, in submission order.
            var log = basis.Events[itemId].Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)).ToList();
            var next = long.MaxValue - verdicts.Count;
            log.AddRange(added[itemId].Select(v => new VerdictEvent(next++, key, v.Verdict, v.Adjudication)));
            states[itemId] = Consensus.Decide(log, rule);
        }
        return states;
    }

    /// <summary>The events, the label version request (migration 0009), the item states and the image flags, in one batch.</summary>
    private const string WriteSql =
        """
        with written as (
            insert into verdict_events (item_id, reviewer_id, source_id, verdict, adjudication, note, seconds_spent, label_version)
            select t.item_id, @reviewerId, @sourceId, t.verdict, t.adjudication, t.note, @seconds, @LabelVersion
            from unnest(@ids, @values, @adjudications, @notes) with ordinality as t(item_id, verdict, adjudication, note, position)
            order by t.position
            returning id
        ), flagged as (
            insert into image_flag_events (image_id, reviewer_id, source_id, problematic, reason, note, label_version)
            select t.image_id, @reviewerId, @sourceId, t.problematic, t.reason, t.note, @LabelVersion
            from unnest(@flagImages, @flagProblematic, @flagReasons, @flagNotes) with ordinality as t(image_id, problematic, reason, note, position)
            order by t.position
            returning id
        ), request as (
            insert into label_version_requests (dataset_id, changed_items, changed_flags, event_ids, flag_event_ids)
            select @datasetId, @changedItems, @changedFlags,
                   coalesce((select array_agg(id order by id) from written), array[]::bigint[]),
                   coalesce((select array_agg(id order by id) from flagged), array[]::bigint[])
            where @changed
        )
        select false as flag, id from written union all select true, id from flagged order by flag, id;

        update review_items r set state = t.state, version = r.version + 1
        from unnest(@itemIds, @states) as t(id, state)
        where r.id = t.id
        returning r.id as item_id, r.state, r.version;

        insert into image_states (image_id, problematic, reason, version)
        select image_id, problematic, reason, 1 from unnest(@finalImages, @finalProblematic, @finalReasons) as t(image_id, problematic, reason)
        on conflict (image_id) do update
        set problematic = excluded.problematic, reason = excluded.reason, version = image_states.version + 1
        returning image_id, problematic, reason, version;

        """;

    /// <summary>
    /// After the commit: the version that the write's last event carries (currval is this session's last id, and this
    /// write did insert one), or the version it read when it wrote no event. In a subquery currval is computed once and
    /// the primary key finds the row; compared per row it would scan the table.
    /// </summary>
    private static string CommittedVersionSql(int events, int flagEvents) =>
        events > 0 ? "select label_version from verdict_events where id = (select currval(pg_get_serial_sequence('verdict_events', 'id')));"
        : flagEvents > 0 ? "select label_version from image_flag_events where id = (select currval(pg_get_serial_sequence('image_flag_events', 'id')));"
        : "select @LabelVersion::bigint;";

    /// <summary>
    /// Sets a dataset's consensus rule and re-derives every item under it, in the caller's transaction. Null when there
    /// is no dataset of that slug.
    /// </summary>
    public static async Task<(int Changed, long LabelVersion)?> ChangeRuleAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string slug, string rule)
    {
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>(
            "update datasets set consensus_rule = @rule where slug = @slug returning id", new { rule, slug }, transaction);
        return datasetId is { } id ? await RederiveAsync(connection, transaction, id, rule) : null;
    }

    /// <summary>Sets a dataset's consensus rule without re-deriving: the caller re-derives once its events are in.</summary>
    public static Task SetRuleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule) =>
        connection.ExecuteAsync("update datasets set consensus_rule = @rule where id = @datasetId", new { rule, datasetId }, transaction);

    /// <summary>
    /// Re-derives every item of a dataset under its (new) rule; the caller holds FOR UPDATE on the dataset row.
    /// Returns how many items changed; a change is one new label version.
    /// </summary>
    public static async Task<(int Changed, long LabelVersion)> RederiveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule)
    {
        var items = (await connection.QueryAsync<ItemVersion>(
            """
            select r.id, r.state, r.version from review_items r join images i on i.id = r.image_id
            where i.dataset_id = @datasetId
            for update of r
            """,
            new { datasetId }, transaction)).ToList();
        var events = (await connection.QueryAsync<StoredVerdict>(
            $"""
            select {StoredVerdictColumns}
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
    /// Opens the next label version of a dataset, recording how many item states and flags changed and the rule in
    /// force. It locks the dataset row until commit, so call it last in the transaction.
    /// </summary>
    internal static Task<long> NewLabelVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, int changedItems, int changedFlags) =>
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
