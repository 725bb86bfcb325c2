using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Review;

/// <summary>A verdict to append to an item's log.</summary>
public sealed record NewVerdict(long ItemId, string Verdict, string Note, bool Adjudication);

/// <summary>A problematic flag to append to an image's log.</summary>
public sealed record NewFlag(long ImageId, bool Problematic, string? Reason, string Note);

/// <summary>
/// What a write appended and changed, and the states it left (the items it wrote, the flags of the images it flagged).
/// When it changed labels, its label version is taken at commit (see migration 0009): read it afterwards with
/// <see cref="ReviewWriter.CommittedLabelVersionAsync"/>.
/// </summary>
public sealed record WriteOutcome(
    int Events, int ChangedItems, int ChangedFlags, long? FirstEventId, long? FirstFlagEventId, long LabelVersion,
    IReadOnlyList<ItemStateResponse> Items, IReadOnlyDictionary<long, ImageFlagState> Flags);

/// <summary>A stored verdict event, as consensus reads it; the author is "u{reviewer}" or "s{source}".</summary>
public sealed record StoredVerdict(long Id, long ItemId, string Author, string Verdict, bool Adjudication);

/// <summary>A review item's derived state and the version that optimistic writers compare.</summary>
public sealed record ItemVersion(long Id, string State, int Version);

/// <summary>
/// What a write starts from, read inside its transaction: the items it writes (locked, or read after the caller locked
/// them), their event logs, the current flags of the images it flags, and the dataset's label version.
/// </summary>
public sealed record WriteBasis(
    IReadOnlyDictionary<long, ItemVersion> Items, ILookup<long, StoredVerdict> Events,
    IReadOnlyDictionary<long, bool> Problematic, long LabelVersion);

/// <summary>
/// Appends verdict and flag events and re-derives what they decide, inside the caller's transaction, in two round
/// trips: one reads the basis, one writes.
/// The caller holds FOR KEY SHARE on the dataset row and FOR UPDATE on the items (and image_states rows) it writes.
/// When an item state or a problematic flag changes, the dataset's label version goes up by one, a label_versions
/// row records the counts, and the new events carry that version; otherwise they carry the current one.
/// </summary>
public static class ReviewWriter
{
    /// <summary>The author of an event, as <see cref="StoredVerdict"/> and consensus name it.</summary>
    public static string Author(long? reviewerId, long? sourceId) => reviewerId is not null ? $"u{reviewerId}" : $"s{sourceId}";

    /// <summary>Columns of a <see cref="StoredVerdict"/> from verdict_events aliased e.</summary>
    public const string StoredVerdictColumns =
        "e.id, e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id) as author, e.verdict, e.adjudication";

    public static async Task<WriteOutcome> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule,
        long? reviewerId, long? sourceId, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags, double? secondsSpent)
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
        return await WriteAsync(connection, transaction, basis, datasetId, rule, reviewerId, sourceId, verdicts, flags, secondsSpent);
    }

    /// <summary>
    /// Writes on a basis the caller read in this transaction, in one round trip. With <paramref name="commit"/>, the
    /// caller began the transaction with a plain "begin" (no <paramref name="transaction"/>): the same round trip commits
    /// it, then runs <paramref name="afterCommitSql"/> (with its own parameters) in a transaction of its own and reads
    /// the label version the write was given, so the outcome's version is the committed one.
    /// A write that changes labels holds the dataset row from its commit-time version bump (migration 0009) until its
    /// commit ends; waiting there for the disk would queue every other writer's commit behind this one's flush. So the
    /// write commits without waiting for the disk, and <paramref name="afterCommitSql"/>, which must write (an upsert,
    /// say), commits waiting: the WAL is then on disk up to its record, past the write's. The round trip ends only once
    /// the write is durable, and concurrent flushes are shared instead of queued.
    /// </summary>
    public static async Task<WriteOutcome> WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, WriteBasis basis, long datasetId, string rule,
        long? reviewerId, long? sourceId, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags, double? secondsSpent,
        bool commit = false, string? afterCommitSql = null, object? afterCommitParameters = null)
    {
        if (commit && string.IsNullOrWhiteSpace(afterCommitSql))
            throw new ArgumentException("A write that commits needs a writing statement after its commit to make it durable.", nameof(afterCommitSql));
        var author = Author(reviewerId, sourceId);
        var itemIds = verdicts.Select(v => v.ItemId).Distinct().ToArray();
        var added = verdicts.ToLookup(v => v.ItemId);
        var newStates = new Dictionary<long, string>();
        foreach (var itemId in itemIds)
        {
            // New events come after every stored one: give them ids beyond any stored id, in submission order.
            var log = basis.Events[itemId].Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)).ToList();
            var next = long.MaxValue - verdicts.Count;
            log.AddRange(added[itemId].Select(v => new VerdictEvent(next++, author, v.Verdict, v.Adjudication)));
            newStates[itemId] = Consensus.Decide(log, rule);
        }
        var changedItems = itemIds.Count(id => newStates[id] != basis.Items[id].State);
        var finalFlags = flags.GroupBy(f => f.ImageId).ToDictionary(g => g.Key, g => g.Last());
        var changedFlags = finalFlags.Count(f => f.Value.Problematic != basis.Problematic.GetValueOrDefault(f.Key));

        // Events are written with the current version; a write that changes labels is restamped at commit.
        var parameters = new DynamicParameters(new
        {
            datasetId,
            reviewerId,
            sourceId,
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
        if (afterCommitParameters is not null) parameters.AddDynamicParams(afterCommitParameters);
        using var write = await connection.QueryMultipleAsync(
            $"""
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
             {(commit ? "set local synchronous_commit = off;\ncommit;\n" + afterCommitSql + "\n" + CommittedVersionSql(verdicts.Count, flags.Count) : "")}
             """,
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

    /// <summary>
    /// After the commit: the version that the write's last event carries (currval is this session's last id, and
    /// this write did insert one), or the version it read when it wrote no event. currval is volatile: in a subquery it
    /// is computed once and the primary key finds the row; compared per row it would scan the table.
    /// </summary>
    private static string CommittedVersionSql(int events, int flagEvents) =>
        events > 0 ? "select label_version from verdict_events where id = (select currval(pg_get_serial_sequence('verdict_events', 'id')));"
        : flagEvents > 0 ? "select label_version from image_flag_events where id = (select currval(pg_get_serial_sequence('image_flag_events', 'id')));"
        : "select @LabelVersion::bigint;";

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
