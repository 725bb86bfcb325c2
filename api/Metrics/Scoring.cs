using System.Buffers;
using System.Runtime.CompilerServices;

namespace Relabel.Api.Metrics;

/// <summary>The state of a review item as grading sees it; a conflict is as undecided as a pending item.</summary>
public enum ItemState : byte { Pending = 0, Correct = 1, Wrong = 2, Unclear = 3 }

/// <summary>
/// A dataset's images as grading needs them, by position 0..n-1: the original class index of each, and the
/// imported reference multi-labels (the ReaL format) in compressed rows, or none.
/// </summary>
public sealed class DatasetImages
{
    public DatasetImages(int classCount, short[] originalClass, int[]? referenceStart = null, short[]? referenceClass = null)
    {
        if ((referenceStart is null) != (referenceClass is null)) throw new ArgumentException("Give both reference arrays or neither.");
        if (referenceStart is not null && referenceStart.Length != originalClass.Length + 1)
            throw new ArgumentException("referenceStart needs one entry per image plus one.");
        ClassCount = classCount;
        OriginalClass = originalClass;
        ReferenceStart = referenceStart;
        ReferenceClass = referenceClass;
    }

    public int ClassCount { get; }
    public int Count => OriginalClass.Length;
    public short[] OriginalClass { get; }
    public int[]? ReferenceStart { get; }
    public short[]? ReferenceClass { get; }
    public bool HasReference => ReferenceStart is not null;

    public ReadOnlySpan<short> Reference(int image) =>
        ReferenceStart is null ? [] : ReferenceClass.AsSpan(ReferenceStart[image], ReferenceStart[image + 1] - ReferenceStart[image]);
}

/// <summary>
/// The decided labels of a dataset at one label version: which images are problematic, and the review items of each
/// image (class, state) in compressed rows. A class with no item is pending.
/// </summary>
public sealed class LabelState(bool[] problematic, int[] itemStart, short[] itemClass, ItemState[] itemState)
{
    public bool[] Problematic { get; } = problematic;
    public int[] ItemStart { get; } = itemStart;
    public short[] ItemClass { get; } = itemClass;
    public ItemState[] ItemStates { get; } = itemState;

    public ItemState StateOf(int image, int classIndex)
    {
        for (var j = ItemStart[image]; j < ItemStart[image + 1]; j++)
            if (ItemClass[j] == classIndex) return ItemStates[j];
        return ItemState.Pending;
    }

    private sealed record OriginalStatesMemo(short[] Original, ItemState[] States);
    private OriginalStatesMemo? _originalStates;

    /// <summary>
    /// The state of each image's item of its original class, found once per label state and images: most top-1
    /// predictions are the original class, and a count of every entry looks them up here instead of searching the
    /// image's items.
    /// </summary>
    public ItemState[] OriginalStates(short[] originalClass)
    {
        if (Volatile.Read(ref _originalStates) is { } known && ReferenceEquals(known.Original, originalClass)) return known.States;
        var states = new ItemState[originalClass.Length];
        for (var i = 0; i < states.Length; i++) states[i] = StateOf(i, originalClass[i]);
        Volatile.Write(ref _originalStates, new OriginalStatesMemo(originalClass, states));
        return states;
    }

    /// <summary>
    /// The paper's rule as a dataset setting: an image whose original label reviewers decided wrong is problematic too.
    /// Affected counts the images it adds.
    /// </summary>
    public LabelState WithWrongOriginalsProblematic(short[] originalClass, out int affected)
    {
        var problematic = (bool[])Problematic.Clone();
        var original = OriginalStates(originalClass);
        affected = 0;
        for (var i = 0; i < problematic.Length; i++)
            if (!problematic[i] && original[i] == ItemState.Wrong) { problematic[i] = true; affected++; }
        // The same items: the same original-class states.
        return new LabelState(problematic, ItemStart, ItemClass, ItemStates) { WrongOriginals = affected, _originalStates = _originalStates };
    }

    /// <summary>
    /// The image positions whose grading can differ between two label states of the same images: the problematic flag,
    /// or the set of decided items and their states (in any order).
    /// </summary>
    public static int[] ChangedImages(LabelState before, LabelState after)
    {
        var changed = new List<int>();
        for (var i = 0; i < after.Problematic.Length; i++)
        {
            if (before.Problematic[i] != after.Problematic[i]) { changed.Add(i); continue; }
            int b = before.ItemStart[i], a = after.ItemStart[i], n = after.ItemStart[i + 1] - a;
            if (before.ItemStart[i + 1] - b != n) { changed.Add(i); continue; }
            // Usually the same items in the same order; otherwise look each one up.
            var same = true;
            for (var j = 0; j < n && same; j++)
                same = before.ItemClass[b + j] == after.ItemClass[a + j] && before.ItemStates[b + j] == after.ItemStates[a + j];
            if (same) continue;
            for (var j = 0; j < n; j++)
                if (before.StateOf(i, after.ItemClass[a + j]) != after.ItemStates[a + j]) { changed.Add(i); break; }
        }
        return changed.ToArray();
    }

    /// <summary>
    /// This state with some items and flags replaced: each item given (image, class, state) takes that state (Pending
    /// removes it), each flag given sets the image's problematic flag. The arrays are copied, this state stays as it is;
    /// the images given are recorded (see <see cref="ChangedSince"/>).
    /// </summary>
    public LabelState With(IReadOnlyList<(int Image, short Class, ItemState State)> items, IReadOnlyList<(int Image, bool Problematic)> flags)
    {
        var problematic = (bool[])Problematic.Clone();
        foreach (var (image, flag) in flags) problematic[image] = flag;
        var touched = items.Select(i => i.Image).Concat(flags.Select(f => f.Image)).Distinct().Order().ToArray();
        var changes = new Changes(new WeakReference<LabelState>(this), touched);
        if (items.Count == 0) return new LabelState(problematic, ItemStart, ItemClass, ItemStates) { Parent = changes };
        var byImage = new SortedDictionary<int, Dictionary<short, ItemState>>();
        foreach (var (image, cls, state) in items)
        {
            if (!byImage.TryGetValue(image, out var row))
            {
                row = new Dictionary<short, ItemState>();
                for (var j = ItemStart[image]; j < ItemStart[image + 1]; j++) row[ItemClass[j]] = ItemStates[j];
                byImage[image] = row;
            }
            if (state == ItemState.Pending) row.Remove(cls); else row[cls] = state;
        }
        // When no item comes or goes (a verdict that changes a decided item, as an adjudication does; a first decision
        // adds one), every item stays where it stands: the starts and classes are this state's (never changed once
        // made) and only the states are copied. A zoo's three arrays are 0.8 MB of large objects, which bring on full
        // collections.
        if (byImage.All(r => HasSameItems(r.Key, r.Value)))
        {
            var kept = (ItemState[])ItemStates.Clone();
            foreach (var (image, row) in byImage)
                for (var j = ItemStart[image]; j < ItemStart[image + 1]; j++) kept[j] = row[ItemClass[j]];
            return new LabelState(problematic, ItemStart, ItemClass, kept) { Parent = changes };
        }
        var count = ItemClass.Length + byImage.Sum(r => r.Value.Count - (ItemStart[r.Key + 1] - ItemStart[r.Key]));
        var start = new int[ItemStart.Length];
        var classes = new short[count];
        var states = new ItemState[count];
        var n = 0;
        // The images between two changed ones are copied as one block (a zoo's state holds a million items, a verdict
        // changes one image), their starts moved by how much the rows before them grew or shrank.
        void Block(int from, int to)
        {
            var length = ItemStart[to] - ItemStart[from];
            var shift = n - ItemStart[from];
            for (var i = from; i < to; i++) start[i] = ItemStart[i] + shift;
            Array.Copy(ItemClass, ItemStart[from], classes, n, length);
            Array.Copy(ItemStates, ItemStart[from], states, n, length);
            n += length;
        }
        var next = 0;
        foreach (var (image, row) in byImage)
        {
            Block(next, image);
            start[image] = n;
            foreach (var (cls, state) in row) { classes[n] = cls; states[n++] = state; }
            next = image + 1;
        }
        Block(next, problematic.Length);
        start[problematic.Length] = n;
        return new LabelState(problematic, start, classes, states) { Parent = changes };
    }

    /// <summary>Whether an image's items, as changed, are of the classes it lists now: the same count, each one there.</summary>
    private bool HasSameItems(int image, Dictionary<short, ItemState> row)
    {
        if (row.Count != ItemStart[image + 1] - ItemStart[image]) return false;
        for (var j = ItemStart[image]; j < ItemStart[image + 1]; j++)
            if (!row.ContainsKey(ItemClass[j])) return false;
        return true;
    }

    /// <summary>The state this one was made from by <see cref="With"/>, held weakly, and the images it was given.</summary>
    private sealed record Changes(WeakReference<LabelState> From, int[] Images);

    private Changes? Parent { get; init; }

    /// <summary>
    /// The images that may differ from <paramref name="before"/> when this state was made from it by <see cref="With"/>
    /// (the images given, a superset of <see cref="ChangedImages"/>), else null: then compare the two.
    /// </summary>
    public int[]? ChangedSince(LabelState before) =>
        Parent is { } p && p.From.TryGetTarget(out var from) && ReferenceEquals(from, before) ? p.Images : null;

    /// <summary>How many images are problematic only because their original label was decided wrong.</summary>
    public int WrongOriginals { get; private init; }

    /// <summary>
    /// Builds the compressed rows from (image position, class, state) triples in any order (a span: a zoo's whole read
    /// is a quarter of a million items, in a pooled buffer, enumerated twice).
    /// </summary>
    public static LabelState Build(int imageCount, bool[] problematic, ReadOnlySpan<(int Image, short Class, ItemState State)> items)
    {
        var start = new int[imageCount + 1];
        foreach (var item in items) start[item.Image + 1]++;
        for (var i = 0; i < imageCount; i++) start[i + 1] += start[i];
        var fill = start[..^1].ToArray();
        var classes = new short[items.Length];
        var states = new ItemState[items.Length];
        foreach (var (image, cls, state) in items)
        {
            classes[fill[image]] = cls;
            states[fill[image]++] = state;
        }
        return new LabelState(problematic, start, classes, states);
    }
}

/// <summary>
/// One entry's ranked predictions by image position, as grading needs them: the top-1 class of each image (-1 where the
/// entry has no prediction), and two bits per image: whether the image's original class is among its first K labels
/// (top-5), and whether any of its reference classes is (ReaL top-5). Built against the dataset's images
/// (<see cref="Empty(DatasetImages, int)"/>), only these are kept: 2.25 bytes per image instead of 2 K. Built without them
/// (<see cref="Empty(int, int)"/>, tests and ensembles) the labels after the first are kept until the first grading
/// computes the bits. Nothing reads the full lists from here: the model page and downloads read them from the database.
/// </summary>
public sealed class RankedPredictions
{
    public const int MaxK = 5;
    private readonly short[] _top1;
    private readonly DatasetImages? _images;
    private readonly ulong[]? _originalRanked;
    private readonly ulong[]? _referenceRanked;
    /// <summary>Unbound only: labels 2..Stride of each image, -1 where absent.</summary>
    private readonly short[]? _rest;
    private Hits? _hits;

    private RankedPredictions(int imageCount, int k, DatasetImages? images)
    {
        K = k;
        Stride = Math.Clamp(k, 1, MaxK);
        _top1 = new short[imageCount];
        Array.Fill(_top1, (short)-1);
        _images = images;
        if (images is not null)
        {
            if (images.Count != imageCount) throw new ArgumentException("One prediction per image of the dataset.");
            _originalRanked = new ulong[(imageCount + 63) / 64];
            _referenceRanked = new ulong[(imageCount + 63) / 64];
            _hits = new Hits(images, _originalRanked, _referenceRanked);
        }
        else if (Stride > 1)
        {
            _rest = new short[imageCount * (Stride - 1)];
            Array.Fill(_rest, (short)-1);
        }
    }

    public int K { get; }

    /// <summary>Labels per image the upload has (at most five).</summary>
    public int Stride { get; }

    public int Count => _top1.Length;
    public short Top1(int image) => _top1[image];

    /// <summary>The top-1 class of every image, -1 where absent.</summary>
    public ReadOnlySpan<short> Top1s => _top1;

    /// <summary>What this holds, in bytes (the cache's budget counts it).</summary>
    public long Bytes => _top1.Length * sizeof(short) + ((_originalRanked?.Length ?? 0) + (_referenceRanked?.Length ?? 0)) * sizeof(ulong)
                         + (_rest?.Length ?? 0) * sizeof(short);

    /// <summary>Sets an image's labels (the first K of them; the rest of its slots absent).</summary>
    public void Set(int image, ReadOnlySpan<short> labels)
    {
        if (labels.Length > Stride) labels = labels[..Stride];
        _top1[image] = labels.Length > 0 ? labels[0] : (short)-1;
        if (_images is not null)
        {
            var c = _images.OriginalClass[image];
            SetBit(_originalRanked!, image, labels.Contains(c));
            var any = false;
            foreach (var r in _images.Reference(image))
                if (labels.Contains(r)) { any = true; break; }
            SetBit(_referenceRanked!, image, any);
            return;
        }
        if (_rest is null) return;
        var o = image * (Stride - 1);
        for (var j = 1; j < Stride; j++) _rest[o + j - 1] = j < labels.Length ? labels[j] : (short)-1;
        _hits = null;
    }

    private static void SetBit(ulong[] bits, int i, bool value)
    {
        if (value) bits[i >> 6] |= 1UL << i; else bits[i >> 6] &= ~(1UL << i);
    }

    /// <summary>
    /// Per image of <see cref="Images"/>: whether its original class (OriginalRanked) and any of its reference
    /// classes (ReferenceRanked) are among its labels. Bit i of word i / 64.
    /// </summary>
    public sealed record Hits(DatasetImages Images, ulong[] OriginalRanked, ulong[] ReferenceRanked)
    {
        public bool Original(int image) => (OriginalRanked[image >> 6] & (1UL << image)) != 0;
        public bool Reference(int image) => (ReferenceRanked[image >> 6] & (1UL << image)) != 0;
    }

    /// <summary>The bits against these images: kept when built against them, else computed from the labels (once per images).</summary>
    public Hits HitsFor(DatasetImages images)
    {
        var hits = _hits;
        if (hits is not null && ReferenceEquals(hits.Images, images)) return hits;
        if (_images is not null)
            throw new InvalidOperationException("These predictions were built against other images: only their top-1 and bits are kept.");
        if (images.Count != _top1.Length) throw new ArgumentException("One prediction per image of the dataset.");
        var original = new ulong[(_top1.Length + 63) / 64];
        var reference = new ulong[original.Length];
        Span<short> labels = stackalloc short[MaxK];
        for (var i = 0; i < _top1.Length; i++)
        {
            labels[0] = _top1[i];
            if (_rest is not null) _rest.AsSpan(i * (Stride - 1), Stride - 1).CopyTo(labels[1..]);
            var row = labels[..Stride];
            if (row.Contains(images.OriginalClass[i])) original[i >> 6] |= 1UL << i;
            foreach (var r in images.Reference(i))
                if (row.Contains(r)) { reference[i >> 6] |= 1UL << i; break; }
        }
        hits = new Hits(images, original, reference);
        _hits = hits;
        return hits;
    }

    /// <summary>No prediction yet; the labels after the first are kept until grading binds them to images.</summary>
    public static RankedPredictions Empty(int imageCount, int k) => new(imageCount, k, null);

    /// <summary>No prediction yet, graded against these images: only the top-1 and two bits per image are kept.</summary>
    public static RankedPredictions Empty(DatasetImages images, int k) => new(images.Count, k, images);
}

/// <summary>
/// Counts of one entry by original class, over the graded images of an evaluation scope: the images of the scope that
/// are not problematic (the paper's code leaves those out of every metric). Images counts them whether predicted or not,
/// so an entry is complete on a subset when it predicted every one; Predicted, Top1, Top5 and the multi-label counts
/// cover the predicted ones, whose top-1 item is correct, unclear, wrong or pending. ReaL counts its own images: those of
/// the scope whose reference set is not empty (RealScope), predicted (RealImages).
/// </summary>
public sealed class ClassCounts
{
    public ClassCounts(int classCount)
    {
        Images = New(classCount);
        Predicted = New(classCount); Top1 = New(classCount); Top5 = New(classCount);
        Correct = new(New(classCount)); Unclear = new(New(classCount)); Wrong = new(New(classCount)); Pending = new(New(classCount));
        RealScope = New(classCount); RealImages = New(classCount); RealTop1 = New(classCount); RealTop5 = New(classCount);
    }

    public int[] Images { get; }
    public int[] Predicted { get; }
    public int[] Top1 { get; }
    public int[] Top5 { get; }
    public SharedCounts Correct { get; }
    public SharedCounts Unclear { get; }
    public SharedCounts Wrong { get; }
    public SharedCounts Pending { get; }
    public int[] RealScope { get; }
    public int[] RealImages { get; }
    public int[] RealTop1 { get; }
    public int[] RealTop5 { get; }

    private ClassCounts(ClassCounts other, bool flags)
    {
        Images = flags ? Copy(other.Images) : other.Images;
        Predicted = flags ? Copy(other.Predicted) : other.Predicted;
        Top1 = flags ? Copy(other.Top1) : other.Top1;
        Top5 = flags ? Copy(other.Top5) : other.Top5;
        Correct = other.Correct.Share(); Unclear = other.Unclear.Share(); Wrong = other.Wrong.Share(); Pending = other.Pending.Share();
        RealScope = other.RealScope; RealImages = other.RealImages; RealTop1 = other.RealTop1; RealTop5 = other.RealTop5;
    }

    /// <summary>
    /// A count array on the pinned object heap: counts live long (as long as their label state) and a full recount
    /// makes thousands of them at once (12 arrays for each of 1,000 entries at zoo scale); in the youngest generation
    /// each collection copied them onward, here they are never moved (same-sized arrays reuse the space of those that died).
    /// </summary>
    private static int[] New(int classCount) => GC.AllocateArray<int>(classCount, pinned: true);

    private static int[] Copy(int[] counts)
    {
        var copy = GC.AllocateUninitializedArray<int>(counts.Length, pinned: true);
        counts.CopyTo(copy, 0);
        return copy;
    }

    private ClassCounts(ClassCounts other)
    {
        Images = other.Images; Predicted = other.Predicted; Top1 = other.Top1; Top5 = other.Top5;
        var classCount = other.Images.Length;
        Correct = new(New(classCount)); Unclear = new(New(classCount)); Wrong = new(New(classCount)); Pending = new(New(classCount));
        RealScope = other.RealScope; RealImages = other.RealImages; RealTop1 = other.RealTop1; RealTop5 = other.RealTop5;
    }

    /// <summary>Counts that share every count but the states' with these, whose states are zero, to be counted.</summary>
    public ClassCounts WithNewStates() => new(this);

    /// <summary>
    /// A copy to change: the ReaL counts, which no verdict changes, are shared, and so are the image and top-1/top-5
    /// counts unless a problematic flag changes (a verdict moves only the states; a zoo copies this for most entries).
    /// </summary>
    public ClassCounts CopyForLabels(bool flags = true) => new(this, flags);

    // The sums over the subsets asked for (Totals), newest last; replaced whole, so readers need no lock.
    private (bool[] Subset, SubsetTotals Totals)[] _totals = [];
    private const int MaxTotals = 16;

    /// <summary>
    /// The sums over a subset's classes, made once per subset: for counts that are no longer changed (a board's). A
    /// recount derives them from the counts it started from (<see cref="DeriveTotals"/>).
    /// </summary>
    public SubsetTotals Totals(bool[] subset)
    {
        var known = Volatile.Read(ref _totals);
        foreach (var (s, t) in known)
            if (ReferenceEquals(s, subset)) return t;
        var made = new SubsetTotals(this, subset);
        // Two threads may add the same subset at once: one of them is kept, both are right.
        Volatile.Write(ref _totals, [.. known.Length < MaxTotals ? known : known[1..], (subset, made)]);
        return made;
    }

    /// <summary>
    /// These counts' sums from those of <paramref name="previous"/>, which differ from these only on
    /// <paramref name="classes"/> (distinct): a verdict changes one class of the entries it touches, so their rows need
    /// not sum a thousand classes again. Integer sums: the same as summing afresh.
    /// </summary>
    internal void DeriveTotals(ClassCounts previous, List<int> classes)
    {
        var known = Volatile.Read(ref previous._totals);
        if (known.Length == 0) return;
        var derived = new (bool[], SubsetTotals)[known.Length];
        for (var k = 0; k < known.Length; k++) derived[k] = (known[k].Subset, known[k].Totals.Moved(previous, this, classes));
        Volatile.Write(ref _totals, derived);
    }
}

/// <summary>
/// An entry's counts of one item state by class, in chunks of 64 classes that a copy shares until it changes one
/// (<see cref="Share"/>): a verdict changes one class of each entry it touches, about 730 of them at zoo scale, so a
/// recount copies one chunk per state instead of every class (it made 12 MB of new arrays per verdict). Written only
/// while being made, then read by any thread.
/// </summary>
public sealed class SharedCounts
{
    public const int ChunkSize = 64;
    private const int Shift = 6;

    private readonly ArraySegment<int>[] _chunks;
    // Which chunks this one made (may write); none of a copy's until it writes them.
    private readonly bool[] _own;

    /// <summary>Counts over this array, which they own from now on, cut into chunks.</summary>
    public SharedCounts(int[] counts)
    {
        Whole = counts;
        Length = counts.Length;
        _chunks = new ArraySegment<int>[(counts.Length + ChunkSize - 1) >> Shift];
        for (var k = 0; k < _chunks.Length; k++)
            _chunks[k] = new ArraySegment<int>(counts, k * ChunkSize, Math.Min(ChunkSize, counts.Length - k * ChunkSize));
        _own = new bool[_chunks.Length];
        Array.Fill(_own, true);
    }

    /// <summary>
    /// The array these counts were made over (null for a copy), to count into while they are being made, before any
    /// copy shares it (<see cref="Scoring.Count"/>: a plain loop over an array).
    /// </summary>
    internal int[]? Whole { get; }

    private SharedCounts(SharedCounts other)
    {
        Length = other.Length;
        _chunks = (ArraySegment<int>[])other._chunks.Clone();
        _own = new bool[_chunks.Length];
    }

    public int Length { get; }
    public int Chunks => _chunks.Length;

    public int this[int c] => _chunks[c >> Shift][c & (ChunkSize - 1)];

    /// <summary>The classes k·64 to k·64 + 63 (fewer in the last chunk).</summary>
    public ReadOnlySpan<int> Chunk(int k) => _chunks[k];

    /// <summary>A copy to change: it shares every chunk with this one, which must not change any more.</summary>
    public SharedCounts Share() => new(this);

    public void Add(int c, int delta)
    {
        var k = c >> Shift;
        if (!_own[k])
        {
            _chunks[k] = _chunks[k].ToArray();
            _own[k] = true;
        }
        var chunk = _chunks[k];
        chunk[c & (ChunkSize - 1)] += delta;
    }

    public void Set(int c, int value) => Add(c, value - this[c]);

    public int[] ToArray()
    {
        var values = new int[Length];
        for (var k = 0; k < _chunks.Length; k++) _chunks[k].AsSpan().CopyTo(values.AsSpan(k * ChunkSize));
        return values;
    }
}

/// <summary>
/// An entry's counts summed over the classes of one subset, in one pass: a board row reads a dozen metrics on each of
/// several subsets, and each metric summing its own arrays cost most of a zoo board's rebuild after a verdict. The
/// per-class means (for per-class averages) take a second pass, made on first use. Read the counts once they are made.
/// </summary>
public sealed class SubsetTotals
{
    // The state counts the per-class means are made from; not the ClassCounts that hold them: sums a verdict left alone
    // are kept by the next counts (Moved), and through their counts each would keep every earlier recount alive, with
    // the board rows built from them.
    private readonly SharedCounts _correct, _unclear, _wrong, _pending;
    private readonly bool[] _subset;
    private PerClassMeans[]? _means;

    private SubsetTotals(ClassCounts counts, bool[] subset, bool _)
    {
        (_correct, _unclear, _wrong, _pending) = (counts.Correct, counts.Unclear, counts.Wrong, counts.Pending);
        _subset = subset;
    }

    public SubsetTotals(ClassCounts counts, bool[] subset) : this(counts, subset, false)
    {
        int[] images = counts.Images, predicted = counts.Predicted, top1 = counts.Top1, top5 = counts.Top5,
            realScope = counts.RealScope, realImages = counts.RealImages, realTop1 = counts.RealTop1, realTop5 = counts.RealTop5;
        for (var c = 0; c < images.Length; c++)
        {
            if (!subset[c]) continue;
            Images += images[c]; Predicted += predicted[c]; Top1 += top1[c]; Top5 += top5[c];
            RealScope += realScope[c]; RealImages += realImages[c]; RealTop1 += realTop1[c]; RealTop5 += realTop5[c];
        }
        // The states chunk by chunk (a chunk's classes at once, as a span).
        for (var k = 0; k < counts.Correct.Chunks; k++)
        {
            ReadOnlySpan<int> correct = counts.Correct.Chunk(k), unclear = counts.Unclear.Chunk(k), wrong = counts.Wrong.Chunk(k),
                pending = counts.Pending.Chunk(k);
            var at = k * SharedCounts.ChunkSize;
            for (var j = 0; j < correct.Length; j++)
            {
                if (!subset[at + j]) continue;
                Correct += correct[j]; Unclear += unclear[j]; Wrong += wrong[j]; Pending += pending[j];
            }
        }
    }

    public long Images { get; private set; }
    public long Predicted { get; private set; }
    public long Top1 { get; private set; }
    public long Top5 { get; private set; }
    public long Correct { get; private set; }
    public long Unclear { get; private set; }
    public long Wrong { get; private set; }
    public long Pending { get; private set; }
    public long RealScope { get; private set; }
    public long RealImages { get; private set; }
    public long RealTop1 { get; private set; }
    public long RealTop5 { get; private set; }

    /// <summary>Whether the entry predicted every graded image of the subset.</summary>
    public bool Complete => Predicted == Images;

    /// <summary>
    /// The sums of <paramref name="next"/>, which differs from this one's counts only on <paramref name="classes"/>
    /// (distinct): this object itself when none of them is in the subset.
    /// </summary>
    internal SubsetTotals Moved(ClassCounts previous, ClassCounts next, List<int> classes)
    {
        // None of them in the subset: these sums are those of next too (and a board row built from them stays as it was).
        var touched = false;
        foreach (var c in classes) touched |= _subset[c];
        if (!touched) return this;
        var moved = new SubsetTotals(next, _subset, false)
        {
            Images = Images, Predicted = Predicted, Top1 = Top1, Top5 = Top5, Correct = Correct, Unclear = Unclear, Wrong = Wrong,
            Pending = Pending, RealScope = RealScope, RealImages = RealImages, RealTop1 = RealTop1, RealTop5 = RealTop5,
        };
        foreach (var c in classes)
        {
            if (!_subset[c]) continue;
            moved.Images += next.Images[c] - previous.Images[c];
            moved.Predicted += next.Predicted[c] - previous.Predicted[c];
            moved.Top1 += next.Top1[c] - previous.Top1[c];
            moved.Top5 += next.Top5[c] - previous.Top5[c];
            moved.Correct += next.Correct[c] - previous.Correct[c];
            moved.Unclear += next.Unclear[c] - previous.Unclear[c];
            moved.Wrong += next.Wrong[c] - previous.Wrong[c];
            moved.Pending += next.Pending[c] - previous.Pending[c];
            moved.RealScope += next.RealScope[c] - previous.RealScope[c];
            moved.RealImages += next.RealImages[c] - previous.RealImages[c];
            moved.RealTop1 += next.RealTop1[c] - previous.RealTop1[c];
            moved.RealTop5 += next.RealTop5[c] - previous.RealTop5[c];
        }
        if (Volatile.Read(ref _chunkMeans) is { } known)
        {
            var chunks = (ChunkMeans[])known.Clone();
            foreach (var c in classes)
                if (_subset[c]) chunks[c / SharedCounts.ChunkSize] = moved.ChunkMeansOf(c / SharedCounts.ChunkSize);
            moved._chunkMeans = chunks;
        }
        return moved;
    }

    /// <summary>The sums behind the per-class means, 'unclear' counting wrong or correct (both made in one pass).</summary>
    public PerClassMeans Means(bool unclearCountsCorrect)
    {
        var means = _means ??= MakeMeans();
        return means[unclearCountsCorrect ? 1 : 0];
    }

    private PerClassMeans[] MakeMeans()
    {
        // Chunk by chunk (see SharedCounts), then the chunks' sums in order: a recount recomputes only the chunks of the
        // classes it changed (Moved), and the sums come out the same as here, bit for bit.
        var chunks = _chunkMeans ??= Enumerable.Range(0, _correct.Chunks).Select(ChunkMeansOf).ToArray();
        double strictValue = 0, strictUpper = 0, strictDecided = 0, lenientValue = 0, lenientUpper = 0, lenientDecided = 0;
        int valueClasses = 0, decidedClasses = 0;
        foreach (var m in chunks)
        {
            strictValue += m.StrictValue; strictUpper += m.StrictUpper; strictDecided += m.StrictDecided;
            lenientValue += m.LenientValue; lenientUpper += m.LenientUpper; lenientDecided += m.LenientDecided;
            valueClasses += m.ValueClasses; decidedClasses += m.DecidedClasses;
        }
        return
        [
            new PerClassMeans(strictValue, strictUpper, strictDecided, valueClasses, decidedClasses),
            new PerClassMeans(lenientValue, lenientUpper, lenientDecided, valueClasses, decidedClasses),
        ];
    }

    /// <summary>The per-class sums over one chunk's classes of the subset, in class order.</summary>
    private ChunkMeans ChunkMeansOf(int k)
    {
        double strictValue = 0, strictUpper = 0, strictDecided = 0, lenientValue = 0, lenientUpper = 0, lenientDecided = 0;
        int valueClasses = 0, decidedClasses = 0;
        ReadOnlySpan<int> corrects = _correct.Chunk(k), unclears = _unclear.Chunk(k), wrongs = _wrong.Chunk(k), pendings = _pending.Chunk(k);
        var at = k * SharedCounts.ChunkSize;
        for (var j = 0; j < corrects.Length; j++)
        {
            if (!_subset[at + j]) continue;
            long correct = corrects[j], unclear = unclears[j];
            long d = correct + unclear + wrongs[j], q = pendings[j];
            long strict = correct, lenient = correct + unclear;
            if (d > 0) { strictDecided += (double)strict / d; lenientDecided += (double)lenient / d; decidedClasses++; }
            if (d + q > 0)
            {
                strictValue += (double)strict / (d + q); strictUpper += (double)(strict + q) / (d + q);
                lenientValue += (double)lenient / (d + q); lenientUpper += (double)(lenient + q) / (d + q);
                valueClasses++;
            }
        }
        return new ChunkMeans(strictValue, strictUpper, strictDecided, lenientValue, lenientUpper, lenientDecided, valueClasses, decidedClasses);
    }

    private readonly record struct ChunkMeans(double StrictValue, double StrictUpper, double StrictDecided,
        double LenientValue, double LenientUpper, double LenientDecided, int ValueClasses, int DecidedClasses);

    // Made with the means, or by Moved from the previous counts' (then only the changed chunks are summed again).
    private ChunkMeans[]? _chunkMeans;
}

/// <summary>Over the classes of a subset: Σ r_c / n_c and Σ (r_c + q_c) / n_c (ValueClasses with n_c > 0), Σ r_c / d_c (DecidedClasses with d_c > 0).</summary>
public readonly record struct PerClassMeans(double SumValue, double SumUpper, double SumDecided, int ValueClasses, int DecidedClasses);

/// <summary>Which multi-label accuracy: how unclear items count, and whether images or classes are averaged.</summary>
public enum Average { Micro, PerClass }

public sealed record MultiLabelDefinition(Average Average, bool UnclearCountsCorrect)
{
    /// <summary>Only 'correct' counts; the mean over images (the code of Shankar et al. 2020).</summary>
    public static readonly MultiLabelDefinition Strict = new(Average.Micro, false);

    /// <summary>'correct' or 'unclear' counts; accuracy per original class, then the mean over classes (the published dataset's recommendation).</summary>
    public static readonly MultiLabelDefinition Lenient = new(Average.PerClass, true);

    public string Name =>
        this == Strict ? "strict" : this == Lenient ? "lenient"
        : $"{(Average == Average.Micro ? "micro" : "per-class")}, unclear counts {(UnclearCountsCorrect ? "correct" : "wrong")}";
}

/// <summary>A proportion with its Clopper-Pearson interval; Value and Interval are null when Total is 0.</summary>
public sealed record Proportion(long Correct, long Total, double? Value, Interval? Interval)
{
    public static Proportion Of(long correct, long total, double alpha) =>
        new(correct, total, total == 0 ? null : (double)correct / total, ClopperPearson.Of(correct, total, alpha));
}

/// <summary>
/// Multi-label accuracy as the paper counts it (Value): a top-1 prediction is right only when reviewers decided it
/// correct, so a pending one counts wrong; Total = Decided + Pending graded images. Upper counts every pending one right
/// (Value is the lower bound). DecidedOnly leaves pending images out: a labelled variant, never the rank, because a
/// submitter could raise it by predicting labels nobody has reviewed yet.
/// </summary>
public sealed record MultiLabelScore(
    double? Value, Interval? Interval, long Correct, long Total, long Decided, long Pending, double? DecidedOnly, double? Upper)
{
    public bool Provisional => Pending > 0;
}

/// <summary>The pure grading engine: counts per class, then the metrics of a subset from them.</summary>
public static class Scoring
{
    /// <summary>
    /// Two passes over the images of the scope (all images when <paramref name="scope"/> is null): the counts the states
    /// do not decide, then the states (a recount after a rule change makes only the second). For image i with
    /// original class c and top-1 prediction p, when i is not problematic: top-1 is right when p = c; top-5 when c is
    /// among the first five (counted only when K = 5); multi-label takes the state of the item (i, p). ReaL (images whose
    /// reference set is not empty, problematic or not, as ReaL defines it) is right when p is in the set, top-5 when any
    /// of the first five is.
    /// </summary>
    public static ClassCounts Count(DatasetImages images, LabelState labels, RankedPredictions predictions, bool[]? scope = null)
    {
        var counts = new ClassCounts(images.ClassCount);
        CountGraded(counts, images, labels.Problematic, predictions, scope);
        CountStates(counts, images, labels, predictions, scope);
        return counts;
    }

    /// <summary>The counts that the items' states do not decide: graded, predicted, top-1, top-5 and ReaL.</summary>
    private static void CountGraded(ClassCounts counts, DatasetImages images, bool[] problematic, RankedPredictions predictions, bool[]? scope)
    {
        var top1s = predictions.Top1s;
        var hits = predictions.HitsFor(images);
        ulong[] originalRanked = hits.OriginalRanked, referenceRanked = hits.ReferenceRanked;
        var original = images.OriginalClass;
        var referenceStart = images.ReferenceStart;
        var referenceClass = images.ReferenceClass ?? [];
        // Plain loops over arrays held in locals, and hits added as 0 or 1 (no branch on what a model predicted, which
        // the processor cannot guess): this runs for every entry on every full recompute.
        int[] nImages = counts.Images, nPredicted = counts.Predicted, nTop1 = counts.Top1, nTop5 = counts.Top5,
            nRealScope = counts.RealScope, nRealImages = counts.RealImages, nRealTop1 = counts.RealTop1, nRealTop5 = counts.RealTop5;
        for (var i = 0; i < original.Length; i++)
        {
            if (scope is not null && !scope[i]) continue;
            int top1 = top1s[i], c = original[i];
            if (!problematic[i])
            {
                nImages[c]++;
                if (top1 >= 0)
                {
                    nPredicted[c]++;
                    nTop1[c] += top1 == c ? 1 : 0;
                    nTop5[c] += (int)(originalRanked[i >> 6] >> i) & 1;
                }
            }
            if (referenceStart is null) continue;
            int from = referenceStart[i], to = referenceStart[i + 1];
            if (from == to) continue;
            nRealScope[c]++;
            if (top1 < 0) continue;
            nRealImages[c]++;
            if ((referenceRanked[i >> 6] & (1UL << i)) == 0) continue;
            nRealTop5[c]++;
            for (var j = from; j < to; j++)
                if (referenceClass[j] == top1) { nRealTop1[c]++; break; }
        }
    }

    /// <summary>The multi-label counts: the state of each graded predicted image's top-1 item, into zeroed counts.</summary>
    private static void CountStates(ClassCounts counts, DatasetImages images, LabelState labels, RankedPredictions predictions, bool[]? scope)
    {
        var top1s = predictions.Top1s;
        var original = images.OriginalClass;
        var problematic = labels.Problematic;
        var itemStart = labels.ItemStart;
        var itemClass = labels.ItemClass;
        var itemState = labels.ItemStates;
        var originalStates = labels.OriginalStates(original);
        // The four states' counts side by side, by class and state: no branch on the state.
        var states = ArrayPool<int>.Shared.Rent(images.ClassCount << 2);
        Array.Clear(states, 0, images.ClassCount << 2);
        for (var i = 0; i < original.Length; i++)
        {
            int top1 = top1s[i], c = original[i];
            if (top1 < 0 || problematic[i] || (scope is not null && !scope[i])) continue;
            ItemState state;
            if (top1 == c) state = originalStates[i];
            else
            {
                state = ItemState.Pending;
                for (int j = itemStart[i], end = itemStart[i + 1]; j < end; j++)
                    if (itemClass[j] == top1) { state = itemState[j]; break; }
            }
            states[(c << 2) | (int)state]++;
        }
        int[] nCorrect = counts.Correct.Whole!, nUnclear = counts.Unclear.Whole!, nWrong = counts.Wrong.Whole!, nPending = counts.Pending.Whole!;
        for (var c = 0; c < images.ClassCount; c++)
        {
            nPending[c] = states[(c << 2) | (int)ItemState.Pending];
            nCorrect[c] = states[(c << 2) | (int)ItemState.Correct];
            nWrong[c] = states[(c << 2) | (int)ItemState.Wrong];
            nUnclear[c] = states[(c << 2) | (int)ItemState.Unclear];
        }
        ArrayPool<int>.Shared.Return(states);
    }

    /// <summary>What image i (original class c, not problematic) adds to the counts that labels decide, times sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Grade(ClassCounts counts, short top1, RankedPredictions.Hits hits, int c, LabelState labels, int i, int sign)
    {
        counts.Images[c] += sign;
        if (top1 < 0) return;
        counts.Predicted[c] += sign;
        if (top1 == c) counts.Top1[c] += sign;
        if (hits.Original(i)) counts.Top5[c] += sign;
        CountState(counts, labels.StateOf(i, top1), c, sign);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CountState(ClassCounts counts, ItemState state, int c, int sign)
    {
        switch (state)
        {
            case ItemState.Correct: counts.Correct.Add(c, sign); break;
            case ItemState.Unclear: counts.Unclear.Add(c, sign); break;
            case ItemState.Wrong: counts.Wrong.Add(c, sign); break;
            default: counts.Pending.Add(c, sign); break;
        }
    }

    /// <summary>Whether an image of <paramref name="changed"/> in the scope has another problematic flag after than before.</summary>
    public static bool FlagsChanged(LabelState before, LabelState after, int[] changed, bool[]? scope)
    {
        foreach (var i in changed)
            if ((scope is null || scope[i]) && before.Problematic[i] != after.Problematic[i]) return true;
        return false;
    }

    /// <summary>How many changed classes a recount derives the sums of (see <see cref="ClassCounts.DeriveTotals"/>).</summary>
    private const int MaxDerived = 64;

    /// <summary>
    /// The counts under <paramref name="after"/> from those under <paramref name="before"/> (same images, same
    /// predictions, same scope), re-grading only the images that changed between the two (<see cref="LabelState.ChangedImages"/>).
    /// An entry whose top-1 meets none of the changes gets <paramref name="previous"/> itself back. Equal to
    /// <see cref="Count"/> under after, exactly: counts are sums over images.
    /// </summary>
    /// <param name="flags">Whether a problematic flag of the scope changed (<see cref="FlagsChanged"/>), when known:
    /// every entry recounted between the same two states shares it (a rule change changes most images).</param>
    public static ClassCounts Recount(ClassCounts previous, DatasetImages images, LabelState before, LabelState after,
        RankedPredictions predictions, int[] changed, bool[]? scope = null, bool? flags = null)
    {
        flags ??= FlagsChanged(before, after, changed, scope);
        // Past a quarter of the images (a consensus-rule change moves nearly all) counting afresh is cheaper than
        // taking each changed image out and in again; both give the same counts. Without a flag changed, only the
        // states are counted again: the other counts stay (a rule change moves no prediction and no flag).
        if (changed.Length > images.Count / 4)
        {
            if (flags.Value) return Count(images, after, predictions, scope);
            var recounted = previous.WithNewStates();
            CountStates(recounted, images, after, predictions, scope);
            return recounted;
        }
        var top1s = predictions.Top1s;
        var hits = predictions.HitsFor(images);
        ClassCounts? counts = null;
        List<int>? classes = null;
        foreach (var i in changed)
        {
            if (scope is not null && !scope[i]) continue;
            var top1 = top1s[i];
            bool wasGraded = !before.Problematic[i], isGraded = !after.Problematic[i];
            if (wasGraded == isGraded && (!isGraded || top1 < 0 || before.StateOf(i, top1) == after.StateOf(i, top1))) continue;
            counts ??= previous.CopyForLabels(flags.Value);
            var c = images.OriginalClass[i];
            // The classes changed, while few (past MaxDerived the sums are made afresh when asked for).
            classes ??= [];
            if (classes.Count <= MaxDerived && !classes.Contains(c)) classes.Add(c);
            if (wasGraded && isGraded)
            {
                // Only the state moved: the arrays of image and top-1/top-5 counts may be shared with previous.
                CountState(counts, before.StateOf(i, top1), c, -1);
                CountState(counts, after.StateOf(i, top1), c, 1);
                continue;
            }
            if (wasGraded) Grade(counts, top1, hits, c, before, i, -1);
            if (isGraded) Grade(counts, top1, hits, c, after, i, 1);
        }
        if (counts is null) return previous;
        if (classes!.Count <= MaxDerived) counts.DeriveTotals(previous, classes);
        return counts;
    }

    /// <summary>
    /// Whether the entry predicted every graded image of the subset: only then is it graded on the same images as every
    /// other complete entry, and ranked.
    /// </summary>
    public static bool Complete(ClassCounts counts, bool[] subset) => new SubsetTotals(counts, subset).Complete;

    public static Proportion Top1(ClassCounts counts, bool[] subset, double alpha) => Top1(new SubsetTotals(counts, subset), alpha);
    public static Proportion Top1(SubsetTotals t, double alpha) => Proportion.Of(t.Top1, t.Predicted, alpha);

    public static Proportion Top5(ClassCounts counts, bool[] subset, double alpha) => Top5(new SubsetTotals(counts, subset), alpha);
    public static Proportion Top5(SubsetTotals t, double alpha) => Proportion.Of(t.Top5, t.Predicted, alpha);

    public static Proportion Real(ClassCounts counts, bool[] subset, double alpha) => Real(new SubsetTotals(counts, subset), alpha);
    public static Proportion Real(SubsetTotals t, double alpha) => Proportion.Of(t.RealTop1, t.RealImages, alpha);

    public static Proportion RealTop5(ClassCounts counts, bool[] subset, double alpha) => RealTop5(new SubsetTotals(counts, subset), alpha);
    public static Proportion RealTop5(SubsetTotals t, double alpha) => Proportion.Of(t.RealTop5, t.RealImages, alpha);

    /// <summary>
    /// Multi-label accuracy on a subset. With r_c right (correct, plus unclear when it counts correct), d_c decided and
    /// q_c pending top-1 predictions of class c (n_c = d_c + q_c graded predicted images):
    /// micro: value = Σr / Σn (pending counts wrong: the paper's headline), upper = (Σr + Σq) / Σn, decided-only = Σr / Σd,
    /// interval Clopper-Pearson(Σr, Σn);
    /// per-class: value, upper and decided-only are the means over classes of r_c / n_c, (r_c + q_c) / n_c (classes with
    /// n_c > 0) and r_c / d_c (classes with d_c > 0), and the interval Clopper-Pearson at round(value · Σn) of Σn (an
    /// approximation: the per-class mean is not a binomial proportion).
    /// </summary>
    /// <param name="alpha">Null for the values alone, without the interval (it costs more than the rest).</param>
    public static MultiLabelScore MultiLabel(ClassCounts counts, bool[] subset, MultiLabelDefinition definition, double? alpha) =>
        MultiLabel(new SubsetTotals(counts, subset), definition, alpha);

    public static MultiLabelScore MultiLabel(SubsetTotals t, MultiLabelDefinition definition, double? alpha)
    {
        long right = t.Correct + (definition.UnclearCountsCorrect ? t.Unclear : 0);
        long decided = t.Correct + t.Unclear + t.Wrong, pending = t.Pending;
        var total = decided + pending;
        if (definition.Average == Average.Micro)
            return new MultiLabelScore(
                total == 0 ? null : (double)right / total,
                alpha is { } a ? ClopperPearson.Of(right, total, a) : null,
                right, total, decided, pending,
                decided == 0 ? null : (double)right / decided,
                total == 0 ? null : (double)(right + pending) / total);
        var means = t.Means(definition.UnclearCountsCorrect);
        double? value = means.ValueClasses == 0 ? null : means.SumValue / means.ValueClasses;
        return new MultiLabelScore(
            value,
            value is null || alpha is not { } level ? null : ClopperPearson.Of((long)Math.Round(value.Value * total), total, level),
            right, total, decided, pending,
            means.DecidedClasses == 0 ? null : means.SumDecided / means.DecidedClasses,
            means.ValueClasses == 0 ? null : means.SumUpper / means.ValueClasses);
    }

    /// <summary>
    /// The majority vote of the members' top-1 predictions on each image (among the members that predicted it). A tie
    /// goes to the class the members predict more often over the whole dataset, then to the smaller class index.
    /// </summary>
    public static RankedPredictions Majority(IReadOnlyList<RankedPredictions> members, int imageCount, int classCount)
    {
        var frequency = new long[classCount];
        foreach (var member in members)
            for (var i = 0; i < imageCount; i++)
                if (member.Top1(i) is var p and >= 0) frequency[p]++;

        var result = RankedPredictions.Empty(imageCount, 1);
        var votes = new Dictionary<short, int>();
        for (var i = 0; i < imageCount; i++)
        {
            votes.Clear();
            foreach (var member in members)
                if (member.Top1(i) is var p and >= 0) votes[p] = votes.GetValueOrDefault(p) + 1;
            if (votes.Count == 0) continue;
            short best = -1;
            foreach (var (cls, n) in votes)
            {
                if (best < 0) { best = cls; continue; }
                var bestVotes = votes[best];
                if (n > bestVotes || (n == bestVotes && (frequency[cls] > frequency[best] || (frequency[cls] == frequency[best] && cls < best))))
                    best = cls;
            }
            result.Set(i, [best]);
        }
        return result;
    }

    /// <summary>
    /// Whether each image is hard for a group: in the scope, not problematic, predicted by at least one member, and every
    /// member that predicted it has a decided top-1 item that does not count as correct (unclear counts as the definition says).
    /// </summary>
    public static bool[] AllWrong(
        IReadOnlyList<RankedPredictions> members, LabelState labels, int imageCount, bool unclearCountsCorrect, bool[]? scope = null)
    {
        var hard = new bool[imageCount];
        for (var i = 0; i < imageCount; i++)
        {
            if (labels.Problematic[i] || (scope is not null && !scope[i])) continue;
            var any = false;
            var allWrong = true;
            foreach (var member in members)
            {
                var p = member.Top1(i);
                if (p < 0) continue;
                any = true;
                var state = labels.StateOf(i, p);
                if (state == ItemState.Wrong || (state == ItemState.Unclear && !unclearCountsCorrect)) continue;
                allWrong = false;
                break;
            }
            hard[i] = any && allWrong;
        }
        return hard;
    }
}
