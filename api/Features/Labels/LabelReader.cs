using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
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
    /// <summary>
    /// The current state, read from review_items and image_states by binary COPY. <paramref name="classOf"/> gives the
    /// class index of each wnid of the dataset's label space; items of other wnids are not graded.
    /// </summary>
    public static async Task<LabelState> CurrentAsync(
        NpgsqlConnection connection, long datasetId, Dictionary<string, int> classOf, Dictionary<long, int> positions, int images)
    {
        // The dataset's images by the range of their ids rather than a join with images (a third of the read at zoo
        // scale): an item of another dataset's image inside the range is dropped below, as it has no position here.
        long first = long.MaxValue, last = long.MinValue;
        foreach (var imageId in positions.Keys) { first = Math.Min(first, imageId); last = Math.Max(last, imageId); }
        if (positions.Count == 0) (first, last) = (0, -1);
        using var items = new DecidedItems(classOf, positions, Math.Max(1024, images * 5));
        // The rows as stored, and parsed here from COPY's binary format as they arrive: a zoo's whole read is a quarter
        // of a million items. With the class looked up by a join on label_space_classes and the state coded by a case,
        // PostgreSQL took 106 ms for them, without 62; and reading each row's fields through the exporter (a string
        // each for the wnid and the state) took longer than the scan it waited on. Decided items by two inequalities
        // rather than state in (...): the planner estimates that at a third of the rows whatever the statistics say (it
        // once made a nested loop of it: 275-307 ms).
        await using (var copy = await connection.BeginRawBinaryCopyAsync(
            $"""
             copy (select r.image_id, r.wnid, r.state
                   from review_items r
                   where r.image_id between {first.ToString(CultureInfo.InvariantCulture)} and {last.ToString(CultureInfo.InvariantCulture)}
                     and r.state <> 'pending' and r.state <> 'conflict') to stdout (format binary)
             """))
        {
            // PostgreSQL sends each row as a message, and the stream hands out one message a read: the rows are
            // gathered into a buffer and parsed in runs (read by read through a pipe, 210,000 rows took 175 ms).
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                var filled = 0;
                while (true)
                {
                    var read = await copy.ReadAsync(buffer, filled, buffer.Length - filled);
                    filled += read;
                    if (read > 0 && filled < buffer.Length / 2) continue;
                    var used = items.Read(buffer.AsSpan(0, filled));
                    buffer.AsSpan(used, filled - used).CopyTo(buffer);
                    filled -= used;
                    if (read == 0) break;
                }
                if (!items.Done || filled > 0) throw new InvalidDataException("The label read ended within a row.");
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }
        var problematic = new bool[images];
        foreach (var imageId in await connection.QueryAsync<long>(
            "select s.image_id from image_states s join images i on i.id = s.image_id where i.dataset_id = @datasetId and s.problematic",
            new { datasetId }))
            if (positions.TryGetValue(imageId, out var i)) problematic[i] = true;
        return LabelState.Build(images, problematic, items.Items);
    }

    /// <summary>
    /// The decided items of COPY (image_id, wnid, state) in PostgreSQL's binary format (big-endian: a header, then per
    /// row a field count and each field's length and bytes, then a count of -1), by image position and class index, in
    /// a pooled buffer (a zoo's quarter of a million went to fresh memory on every whole read).
    /// </summary>
    private sealed class DecidedItems(Dictionary<string, int> classOf, Dictionary<long, int> positions, int capacity) : IDisposable
    {
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _classOf = classOf.GetAlternateLookup<ReadOnlySpan<char>>();
        private (int, short, ItemState)[] _items = ArrayPool<(int, short, ItemState)>.Shared.Rent(capacity);
        private int _count;
        private bool _header = true;

        /// <summary>The trailer was read: every row is in.</summary>
        public bool Done { get; private set; }

        public ReadOnlySpan<(int, short, ItemState)> Items => _items.AsSpan(0, _count);

        /// <summary>Takes the whole rows at the start of <paramref name="data"/>; returns how many bytes they took.</summary>
        public int Read(ReadOnlySpan<byte> data)
        {
            var at = 0;
            if (_header)
            {
                // The signature (11 bytes), the flags, and the header extension's length and bytes.
                if (data.Length < 19 || data.Length < 19 + BinaryPrimitives.ReadInt32BigEndian(data[15..])) return 0;
                at = 19 + BinaryPrimitives.ReadInt32BigEndian(data[15..]);
                _header = false;
            }
            Span<char> name = stackalloc char[16];
            while (!Done && data.Length - at >= 2)
            {
                // A row: 3 fields, each its length and bytes: image_id (8 bytes), wnid, state.
                var row = data[at..];
                var fields = BinaryPrimitives.ReadInt16BigEndian(row);
                if (fields == -1) { Done = true; at += 2; break; }
                if (fields != 3) throw new InvalidDataException($"The label read has {fields} fields in a row, not 3.");
                if (row.Length < 18) break;
                var imageId = BinaryPrimitives.ReadInt64BigEndian(row[6..]);
                var wnidLength = BinaryPrimitives.ReadInt32BigEndian(row[14..]);
                if (wnidLength is < 0 or > 16) throw new InvalidDataException($"The label read has a wnid of {wnidLength} bytes.");
                if (row.Length < 22 + wnidLength) break;
                var stateLength = BinaryPrimitives.ReadInt32BigEndian(row[(18 + wnidLength)..]);
                if (stateLength < 1) throw new InvalidDataException("The label read has an empty state.");
                if (row.Length < 22 + wnidLength + stateLength) break;
                at += 22 + wnidLength + stateLength;
                // Wnids are n and 8 digits (synsets' check): a byte is a char, and 16 bytes are more than enough.
                for (var k = 0; k < wnidLength; k++) name[k] = (char)row[18 + k];
                // The query reads decided items only: correct, wrong or unclear.
                var state = row[22 + wnidLength] switch { (byte)'c' => ItemState.Correct, (byte)'w' => ItemState.Wrong, _ => ItemState.Unclear };
                if (!_classOf.TryGetValue(name[..wnidLength], out var cls) || !positions.TryGetValue(imageId, out var i)) continue;
                if (_count == _items.Length)
                {
                    var larger = ArrayPool<(int, short, ItemState)>.Shared.Rent(2 * _items.Length);
                    _items.AsSpan(0, _count).CopyTo(larger);
                    ArrayPool<(int, short, ItemState)>.Shared.Return(_items);
                    _items = larger;
                }
                _items[_count++] = (i, (short)cls, state);
            }
            return at;
        }

        public void Dispose() => ArrayPool<(int, short, ItemState)>.Shared.Return(_items);
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
        return LabelState.Build(images, problematic, CollectionsMarshal.AsSpan(items));
    }

    private static ItemState Parse(string state) => state switch
    {
        Verdicts.Correct => ItemState.Correct,
        Verdicts.Wrong => ItemState.Wrong,
        Verdicts.Unclear => ItemState.Unclear,
        _ => ItemState.Pending,
    };
}
