using System.Buffers;
using System.Globalization;
using Dapper;
using Npgsql;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Labels;

/// <summary>
/// The label state of a dataset at a label version, as the scoring engine grades against it (<see cref="LabelState"/>
/// over the positions of the dataset's images): the current one from the derived tables, or an earlier one rebuilt
/// from the events up to it by the consensus rule in force then.
/// </summary>
public static class LabelReader
{
    /// <summary>The current state, read from review_items and image_states by binary COPY.</summary>
    public static async Task<LabelState> CurrentAsync(
        NpgsqlConnection connection, long datasetId, long labelSpaceId, Dictionary<long, int> positions, int images)
    {
        // The items in a pooled buffer: a zoo's quarter of a million (2 MB, grown once more past images * 4) went to fresh
        // memory on every whole read, about 12 microseconds a page on this kind of machine (docs/operations.md).
        var items = ArrayPool<(int, short, ItemState)>.Shared.Rent(Math.Max(1024, images * 5));
        var count = 0;
        try
        {
            var space = labelSpaceId.ToString(CultureInfo.InvariantCulture);
            // The dataset's images by the range of their ids rather than a join with images (a third of the read at zoo
            // scale): an item of another dataset's image inside the range is dropped below, as it has no position here.
            long first = long.MaxValue, last = long.MinValue;
            foreach (var imageId in positions.Keys) { first = Math.Min(first, imageId); last = Math.Max(last, imageId); }
            if (positions.Count == 0) (first, last) = (0, -1);
            // Decided items by their state's code rather than by state in (...): the planner estimates that at a third
            // of the rows whatever the statistics say. Statistics taken while a rule left most items pending (a zoo's
            // 210,000 decided items estimated at 1) made it a nested loop over the classes: 275-307 ms against 80-100.
            await using (var reader = await connection.BeginBinaryExportAsync(
                $"""
                 copy (select image_id, class_index, state from (
                           select r.image_id, c.class_index::smallint,
                                  (case r.state when 'correct' then 1 when 'wrong' then 2 when 'unclear' then 3 else 0 end)::smallint as state
                           from review_items r
                           join label_space_classes c on c.label_space_id = {space} and c.wnid = r.wnid
                           where r.image_id between {first.ToString(CultureInfo.InvariantCulture)} and {last.ToString(CultureInfo.InvariantCulture)}) decided
                       where state > 0) to stdout (format binary)
                 """))
            {
                while (await reader.StartRowAsync() != -1)
                {
                    // The row's columns without an await each (a zoo's state is a quarter of a million rows; three
                    // awaits a row were a third of a full read).
                    var imageId = reader.Read<long>();
                    var cls = reader.Read<short>();
                    // The state as ItemState's value (the case above), not as text: no string per item.
                    var state = (ItemState)reader.Read<short>();
                    if (!positions.TryGetValue(imageId, out var i)) continue;
                    if (count == items.Length)
                    {
                        var larger = ArrayPool<(int, short, ItemState)>.Shared.Rent(2 * items.Length);
                        items.AsSpan(0, count).CopyTo(larger);
                        ArrayPool<(int, short, ItemState)>.Shared.Return(items);
                        items = larger;
                    }
                    items[count++] = (i, cls, state);
                }
            }
            var problematic = new bool[images];
            foreach (var imageId in await connection.QueryAsync<long>(
                "select s.image_id from image_states s join images i on i.id = s.image_id where i.dataset_id = @datasetId and s.problematic",
                new { datasetId }))
                if (positions.TryGetValue(imageId, out var i)) problematic[i] = true;
            return LabelState.Build(images, problematic, new ArraySegment<(int, short, ItemState)>(items, 0, count));
        }
        finally { ArrayPool<(int, short, ItemState)>.Shared.Return(items); }
    }

    /// <summary>Beyond this many versions one whole read is cheaper than the items of each.</summary>
    private const long MaxAdvance = 10_000;

    /// <summary>
    /// The current state from an earlier one: <paramref name="previous"/>, read at version <paramref name="from"/>, with
    /// the items and flags of the events of versions from+1..to read again (migration 0021 records them). Null when a
    /// version between was not made of reviewers' events alone (a rule change re-derives every item, a bulk import
    /// writes states by COPY): the caller then reads the whole state.
    /// </summary>
    public static async Task<LabelState?> AdvanceAsync(
        NpgsqlConnection connection, long datasetId, long labelSpaceId, Dictionary<long, int> positions, LabelState previous, long from, long to)
    {
        if (to < from || to - from > MaxAdvance) return null;
        if (to == from) return previous;
        using var read = await connection.QueryMultipleAsync(
            """
            select count(*) from label_version_changes where dataset_id = @datasetId and version > @from and version <= @to;
            select r.image_id, c.class_index::smallint as class_index, r.state
            from review_items r
            join label_space_classes c on c.label_space_id = @labelSpaceId and c.wnid = r.wnid
            where r.id in (select e.item_id from verdict_events e where e.id in (
                select unnest(v.event_ids) from label_version_changes v where v.dataset_id = @datasetId and v.version > @from and v.version <= @to));
            select s.image_id, s.problematic
            from image_states s
            where s.image_id in (select f.image_id from image_flag_events f where f.id in (
                select unnest(v.flag_event_ids) from label_version_changes v where v.dataset_id = @datasetId and v.version > @from and v.version <= @to));
            """,
            new { datasetId, labelSpaceId, from, to });
        if (await read.ReadSingleAsync<long>() != to - from) return null;
        var items = new List<(int, short, ItemState)>();
        foreach (var (imageId, cls, state) in await read.ReadAsync<(long, short, string)>())
            if (positions.TryGetValue(imageId, out var i)) items.Add((i, cls, Parse(state)));
        var flags = new List<(int, bool)>();
        foreach (var (imageId, problematic) in await read.ReadAsync<(long, bool)>())
            if (positions.TryGetValue(imageId, out var i)) flags.Add((i, problematic));
        return previous.With(items, flags);
    }

    private sealed record EventRow
    {
        public required long ItemId { get; init; }
        public required long ImageId { get; init; }
        public required short ClassIndex { get; init; }
        public required long Id { get; init; }
        public required string Author { get; init; }
        public required string Verdict { get; init; }
        public required bool Adjudication { get; init; }
    }

    /// <summary>
    /// The state at an earlier version: each item decided from its events up to it under the rule in force at that
    /// version (<paramref name="currentRule"/> when none is recorded), each image's flag its latest flag event up to it.
    /// </summary>
    public static async Task<LabelState> AtVersionAsync(
        NpgsqlConnection connection, long datasetId, long labelSpaceId, string currentRule, long version, Dictionary<long, int> positions, int images)
    {
        var events = await connection.QueryAsync<EventRow>(
            """
            select e.item_id, r.image_id, c.class_index::smallint as class_index, e.id,
                   coalesce('u' || e.reviewer_id, 's' || e.source_id) as author, e.verdict, e.adjudication
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join label_space_classes c on c.label_space_id = @labelSpaceId and c.wnid = r.wnid
            where i.dataset_id = @datasetId and e.label_version <= @version
            """,
            new { datasetId, labelSpaceId, version });
        // The rule in force at that version (a vote import switches a dataset to the majority rule, say).
        var rule = await connection.QuerySingleOrDefaultAsync<string?>(
            "select consensus_rule from label_versions where dataset_id = @datasetId and version = @version", new { datasetId, version }) ?? currentRule;
        var items = new List<(int, short, ItemState)>();
        foreach (var item in events.GroupBy(e => e.ItemId))
        {
            var first = item.First();
            if (!positions.TryGetValue(first.ImageId, out var i)) continue;
            var state = Parse(Consensus.Decide(item.Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)), rule));
            if (state != ItemState.Pending) items.Add((i, first.ClassIndex, state));
        }
        var problematic = new bool[images];
        foreach (var imageId in await connection.QueryAsync<long>(
            """
            select image_id from (
                select distinct on (f.image_id) f.image_id, f.problematic
                from image_flag_events f join images i on i.id = f.image_id
                where i.dataset_id = @datasetId and f.label_version <= @version
                order by f.image_id, f.id desc) latest
            where problematic
            """,
            new { datasetId, version }))
            if (positions.TryGetValue(imageId, out var i)) problematic[i] = true;
        return LabelState.Build(images, problematic, items);
    }

    private static ItemState Parse(string state) => state switch
    {
        Verdicts.Correct => ItemState.Correct,
        Verdicts.Wrong => ItemState.Wrong,
        Verdicts.Unclear => ItemState.Unclear,
        _ => ItemState.Pending,
    };
}
