using System.Globalization;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Features.Labels;

/// <summary>A crowd vote to copy: an external rater's verdict on an item.</summary>
public readonly record struct BulkVote(long ItemId, long SourceId, string Verdict);

/// <summary>A verdict event to copy with its history (time, note, label version).</summary>
public readonly record struct BulkVerdict(
    long ItemId, LabelAuthor Author, string Verdict, bool Adjudication, string Note, float? SecondsSpent, long LabelVersion, DateTime CreatedAt);

/// <summary>A flag event to copy with its history.</summary>
public readonly record struct BulkFlag(
    long ImageId, LabelAuthor Author, bool Problematic, string? Reason, string Note, long LabelVersion, DateTime CreatedAt);

/// <summary>
/// Events appended to one dataset by binary COPY, then the states they decide and one label version, in the caller's
/// transaction (which holds the dataset row FOR UPDATE). Events carry <see cref="Placeholder"/>, the next version,
/// until the append finishes: if it changes nothing they are restamped with the current one.
/// </summary>
public sealed class BulkAppend
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly long _datasetId;
    private readonly long _labelVersion;
    private readonly long _firstEvent;
    private readonly long _firstFlag;
    /// <summary>The events copied, in order, when the caller asked to derive states from them rather than read them back.</summary>
    private List<(long Item, VerdictEvent Event)>? _log;

    internal BulkAppend(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, long labelVersion, long firstEvent, long firstFlag)
    {
        (_connection, _transaction, _datasetId, _labelVersion) = (connection, transaction, datasetId, labelVersion);
        (_firstEvent, _firstFlag) = (firstEvent, firstFlag);
    }

    /// <summary>The label version that new events carry until the append finishes.</summary>
    public long Placeholder => _labelVersion + 1;

    /// <summary>Copies crowd votes (the events name items and sources locked or created in this transaction).</summary>
    public async Task<int> CopyVotesAsync(IEnumerable<BulkVote> votes, Func<int, Task>? progress = null)
    {
        var count = 0;
        await using (var copy = await _connection.BeginBinaryImportAsync(
                         "copy verdict_events (item_id, source_id, verdict, label_version) from stdin (format binary)"))
        {
            foreach (var vote in votes)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(vote.ItemId, NpgsqlDbType.Bigint);
                await copy.WriteAsync(vote.SourceId, NpgsqlDbType.Bigint);
                await copy.WriteAsync(vote.Verdict, NpgsqlDbType.Text);
                await copy.WriteAsync(Placeholder, NpgsqlDbType.Bigint);
                if (++count % 50_000 == 0 && progress is not null) await progress(count);
            }
            await copy.CompleteAsync();
        }
        return count;
    }

    /// <summary>
    /// Copies verdict events with their history. With <paramref name="derivesFromThese"/> (the dataset had no events),
    /// they are kept in memory so that <see cref="DeriveItemStatesAsync"/> does not read them back.
    /// </summary>
    public async Task<int> CopyVerdictsAsync(IEnumerable<BulkVerdict> verdicts, bool derivesFromThese)
    {
        _log = derivesFromThese ? [] : null;
        // The consensus tells authors apart by these keys, made once per author.
        var keys = new Dictionary<LabelAuthor, string>();
        var count = 0;
        // The job owns its thread: synchronous writes spare a state machine per field of a million rows.
        await using (var copy = await _connection.BeginBinaryImportAsync(
            """
            copy verdict_events (item_id, reviewer_id, source_id, verdict, adjudication, note, seconds_spent, label_version, created_at)
            from stdin (format binary)
            """))
        {
            foreach (var v in verdicts)
            {
                copy.StartRow();
                copy.Write(v.ItemId, NpgsqlDbType.Bigint);
                WriteAuthor(copy, v.Author);
                copy.Write(v.Verdict, NpgsqlDbType.Text);
                copy.Write(v.Adjudication, NpgsqlDbType.Boolean);
                copy.Write(v.Note, NpgsqlDbType.Text);
                if (v.SecondsSpent is { } seconds) copy.Write(seconds, NpgsqlDbType.Real); else copy.WriteNull();
                copy.Write(v.LabelVersion, NpgsqlDbType.Bigint);
                copy.Write(v.CreatedAt, NpgsqlDbType.TimestampTz);
                if (_log is not null)
                {
                    if (!keys.TryGetValue(v.Author, out var key)) keys[v.Author] = key = v.Author.Key;
                    _log.Add((v.ItemId, new VerdictEvent(count, key, v.Verdict, v.Adjudication)));
                }
                count++;
            }
            await copy.CompleteAsync();
        }
        return count;
    }

    /// <summary>Copies flag events with their history; returns how many, and the images flagged.</summary>
    public async Task<(int Count, HashSet<long> Images)> CopyFlagsAsync(IEnumerable<BulkFlag> flags)
    {
        var images = new HashSet<long>();
        var count = 0;
        await using (var copy = await _connection.BeginBinaryImportAsync(
            """
            copy image_flag_events (image_id, reviewer_id, source_id, problematic, reason, note, label_version, created_at)
            from stdin (format binary)
            """))
        {
            foreach (var f in flags)
            {
                copy.StartRow();
                copy.Write(f.ImageId, NpgsqlDbType.Bigint);
                WriteAuthor(copy, f.Author);
                copy.Write(f.Problematic, NpgsqlDbType.Boolean);
                if (f.Reason is null) copy.WriteNull(); else copy.Write(f.Reason, NpgsqlDbType.Text);
                copy.Write(f.Note, NpgsqlDbType.Text);
                copy.Write(f.LabelVersion, NpgsqlDbType.Bigint);
                copy.Write(f.CreatedAt, NpgsqlDbType.TimestampTz);
                images.Add(f.ImageId);
                count++;
            }
            await copy.CompleteAsync();
        }
        return (count, images);
    }

    private static void WriteAuthor(NpgsqlBinaryImporter copy, LabelAuthor author)
    {
        if (author.ReviewerId is { } reviewer) copy.Write(reviewer, NpgsqlDbType.Bigint); else copy.WriteNull();
        if (author.SourceId is { } source) copy.Write(source, NpgsqlDbType.Bigint); else copy.WriteNull();
    }

    /// <summary>
    /// Re-derives every item of the dataset from its events under the rule: from the copied events when they are all of
    /// its events, otherwise from every event read back. Writes the changes; returns how many items changed and the
    /// state of every item.
    /// </summary>
    public async Task<(int Changed, Dictionary<long, string> States)> DeriveItemStatesAsync(string rule)
    {
        var id = _datasetId.ToString(CultureInfo.InvariantCulture);
        var states = new Dictionary<long, string>();
        await using (var reader = await _connection.BeginBinaryExportAsync(
            $"""
             copy (select r.id, r.state from review_items r join images i on i.id = r.image_id where i.dataset_id = {id}) to stdout (format binary)
             """))
            while (await reader.StartRowAsync() != -1)
                states[await reader.ReadAsync<long>(NpgsqlDbType.Bigint)] = await reader.ReadAsync<string>(NpgsqlDbType.Text);

        var changed = new List<(long Item, string State)>();
        var deciding = new ItemLogs(rule, states, changed);
        if (_log is not null)
        {
            // Grouped by item, each item's events in their order (their ids are their positions).
            _log.Sort((a, b) => a.Item != b.Item ? a.Item.CompareTo(b.Item) : a.Event.Id.CompareTo(b.Event.Id));
            foreach (var (item, e) in _log) deciding.Add(item, e);
        }
        else
            await using (var reader = await _connection.BeginBinaryExportAsync(
                $"""
                 copy (select e.item_id, e.id, coalesce('u' || e.reviewer_id, 's' || e.source_id), e.verdict, e.adjudication
                       from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                       where i.dataset_id = {id} order by e.item_id, e.id) to stdout (format binary)
                 """))
                while (await reader.StartRowAsync() != -1)
                    deciding.Add(await reader.ReadAsync<long>(NpgsqlDbType.Bigint), new VerdictEvent(await reader.ReadAsync<long>(NpgsqlDbType.Bigint),
                        await reader.ReadAsync<string>(NpgsqlDbType.Text), await reader.ReadAsync<string>(NpgsqlDbType.Text),
                        await reader.ReadAsync<bool>(NpgsqlDbType.Boolean)));
        deciding.End();
        foreach (var (item, state) in changed) states[item] = state;
        if (changed.Count > 0) await WriteItemStatesAsync(changed);
        return (changed.Count, states);
    }

    /// <summary>Decides items from their events, given grouped by item in order; collects the items whose state changes.</summary>
    private sealed class ItemLogs(string rule, Dictionary<long, string> states, List<(long Item, string State)> changed)
    {
        private readonly List<VerdictEvent> _log = [];
        private long _current = -1;

        public void Add(long item, VerdictEvent e)
        {
            if (item != _current)
            {
                End();
                _current = item;
                _log.Clear();
            }
            _log.Add(e);
        }

        public void End()
        {
            if (_current < 0) return;
            var state = Consensus.Decide(_log, rule);
            if (states.GetValueOrDefault(_current) != state) changed.Add((_current, state));
        }
    }

    private async Task WriteItemStatesAsync(List<(long Item, string State)> changed)
    {
        await _connection.ExecuteAsync(
            "create temporary table bundle_states (item_id bigint not null, state text not null) on commit drop", transaction: _transaction);
        await using (var copy = await _connection.BeginBinaryImportAsync("copy bundle_states (item_id, state) from stdin (format binary)"))
        {
            foreach (var (item, state) in changed)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(item, NpgsqlDbType.Bigint);
                await copy.WriteAsync(state, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
        }
        await _connection.ExecuteAsync(
            """
            update review_items r set state = t.state, version = r.version + 1 from bundle_states t where r.id = t.item_id;
            drop table bundle_states;
            """,
            transaction: _transaction);
    }

    /// <summary>An image's problematic state is its latest flag event; returns how many images changed.</summary>
    public Task<int> DeriveImageStatesAsync(IReadOnlyCollection<long> images) =>
        _connection.ExecuteScalarAsync<int>(
            """
            with latest as (
                select distinct on (f.image_id) f.image_id, f.problematic, f.reason
                from image_flag_events f where f.image_id = any(@images)
                order by f.image_id, f.id desc
            ),
            changed as (
                select count(*)::int as n from latest l left join image_states s on s.image_id = l.image_id
                where coalesce(s.problematic, false) <> l.problematic
            ),
            written as (
                insert into image_states (image_id, problematic, reason, version)
                select image_id, problematic, reason, 1 from latest
                on conflict (image_id) do update
                set problematic = excluded.problematic, reason = excluded.reason, version = image_states.version + 1
                where image_states.problematic is distinct from excluded.problematic or image_states.reason is distinct from excluded.reason
            )
            select n from changed
            """,
            new { images = images.ToArray() }, _transaction);

    /// <summary>
    /// Ends the append with one new label version when states changed, or at the current one (restamping the events);
    /// returns the version the events carry.
    /// </summary>
    public async Task<long> FinishAsync(int changedItems, int changedFlags)
    {
        var version = changedItems > 0 || changedFlags > 0
            ? await LabelWriter.NewLabelVersionAsync(_connection, _transaction, _datasetId, changedItems, changedFlags)
            : _labelVersion;
        await RestampAsync(version);
        return version;
    }

    /// <summary>Ends the append by re-deriving every item under the rule (one new label version if any changed).</summary>
    public async Task<(int Changed, long LabelVersion)> RederiveAndFinishAsync(string rule)
    {
        var (changed, version) = await LabelWriter.RederiveAsync(_connection, _transaction, _datasetId, rule);
        await RestampAsync(version);
        return (changed, version);
    }

    /// <summary>The events appended here, still at the placeholder, take the version the append ended at.</summary>
    private async Task RestampAsync(long version)
    {
        if (version == Placeholder) return;
        await _connection.ExecuteAsync(
            """
            update verdict_events set label_version = @version
            where id > @_firstEvent and label_version = @Placeholder
              and item_id in (select r.id from review_items r join images i on i.id = r.image_id where i.dataset_id = @_datasetId);
            update image_flag_events set label_version = @version
            where id > @_firstFlag and label_version = @Placeholder
              and image_id in (select id from images where dataset_id = @_datasetId);
            """,
            new { version, _firstEvent, _firstFlag, Placeholder, _datasetId }, _transaction);
    }

    /// <summary>A label version recorded elsewhere (a bundle's history), taken as it was.</summary>
    public sealed record HistoricVersion(long Version, DateTime CreatedAt, int ChangedItems, int ChangedFlags, string? ConsensusRule);

    /// <summary>
    /// Ends the append of a dataset without history by taking the recorded label versions as they are (the events
    /// carry their own); the dataset's version becomes at least <paramref name="current"/>. Returns it.
    /// </summary>
    public async Task<long> FinishWithHistoryAsync(IReadOnlyList<HistoricVersion> versions, long current)
    {
        await _connection.ExecuteAsync(
            """
            insert into label_versions (dataset_id, version, created_at, changed_items, changed_flags, consensus_rule)
            select @_datasetId, v, c::timestamptz, i, f, r
            from unnest(@numbers, @created::text[], @changedItems, @changedFlags, @rules::text[]) as t(v, c, i, f, r)
            on conflict do nothing
            """,
            new
            {
                _datasetId,
                numbers = versions.Select(v => v.Version).ToArray(),
                created = versions.Select(v => v.CreatedAt.ToString("O", CultureInfo.InvariantCulture)).ToArray(),
                changedItems = versions.Select(v => v.ChangedItems).ToArray(),
                changedFlags = versions.Select(v => v.ChangedFlags).ToArray(),
                rules = versions.Select(v => v.ConsensusRule).ToArray(),
            },
            _transaction);
        return await _connection.ExecuteScalarAsync<long>(
            "update datasets set label_version = greatest(label_version, @current) where id = @_datasetId returning label_version",
            new { _datasetId, current }, _transaction);
    }
}
