using System.Numerics;

namespace Relabel.Api.Metrics;

/// <summary>What a top-1 (or top-5) prediction is graded against.</summary>
public enum GradedMetric { MultiLabel, Top1, Top5, Real }

/// <summary>
/// Whether each entry is right on each graded image of a subset and scope, as one bitset per entry, laid out class by
/// class (bit ranges [ClassStart[k], ClassStart[k + 1]) in the order of <see cref="Classes"/>). Aligned layouts start
/// every class on a 64-bit word, so per-class sums need no masks. Graded images are those the board's value counts:
/// not problematic for multi-label, top-1 and top-5; with a non-empty reference set for ReaL.
/// </summary>
public sealed class CorrectnessMatrix
{
    public CorrectnessMatrix(int[] classes, int[] classStart, int[] bits, int words, ulong[][] right, ulong[][] predicted)
    {
        Classes = classes; ClassStart = classStart; Bits = bits; Words = words; Right = right; Predicted = predicted;
    }

    /// <summary>The class index of each class range.</summary>
    public int[] Classes { get; }
    /// <summary>The first bit of each class range, and one past the last range at the end.</summary>
    public int[] ClassStart { get; }
    /// <summary>The bit of each graded image (padding bits between aligned classes belong to no image).</summary>
    public int[] Bits { get; }
    public int Images => Bits.Length;
    /// <summary>Image u is bit u (no padding between classes).</summary>
    public bool Dense => Bits.Length == 0 || Bits[^1] == Bits.Length - 1;
    public int Words { get; }
    /// <summary>Per entry: the graded images whose prediction is right.</summary>
    public ulong[][] Right { get; }
    /// <summary>Per entry: the graded images it predicted.</summary>
    public ulong[][] Predicted { get; }

    public static int Count(ulong[] bits)
    {
        var n = 0;
        foreach (var w in bits) n += BitOperations.PopCount(w);
        return n;
    }

    /// <summary>The paired table of two entries on the graded images both predicted.</summary>
    public PairedTable Pair(int first, int second)
    {
        long a = 0, b = 0, c = 0, d = 0;
        ulong[] x = Right[first], y = Right[second], px = Predicted[first], py = Predicted[second];
        for (var w = 0; w < Words; w++)
        {
            var both = px[w] & py[w];
            a += BitOperations.PopCount(x[w] & y[w] & both);
            b += BitOperations.PopCount(x[w] & ~y[w] & both);
            c += BitOperations.PopCount(~x[w] & y[w] & both);
            d += BitOperations.PopCount(~x[w] & ~y[w] & both);
        }
        return new PairedTable(a, b, c, d);
    }

    /// <summary>
    /// Grades the entries on the images of <paramref name="scope"/> (all when null) whose original class is in
    /// <paramref name="subset"/>. Multi-label: the top-1 item is decided correct (or unclear, when it counts correct).
    /// </summary>
    public static CorrectnessMatrix Build(
        DatasetImages images, LabelState labels, IReadOnlyList<RankedPredictions> entries, bool[]? scope, bool[] subset,
        GradedMetric metric, bool unclearCountsCorrect, bool aligned, CancellationToken cancel = default, int parallelism = -1)
    {
        var byClass = new List<int>[images.ClassCount];
        for (var i = 0; i < images.Count; i++)
        {
            if (scope is not null && !scope[i]) continue;
            var c = images.OriginalClass[i];
            if (!subset[c]) continue;
            if (metric == GradedMetric.Real ? images.Reference(i).IsEmpty : labels.Problematic[i]) continue;
            (byClass[c] ??= []).Add(i);
        }
        var classes = Enumerable.Range(0, images.ClassCount).Where(c => byClass[c] is not null).ToArray();
        var classStart = new int[classes.Length + 1];
        var positions = new List<int>();
        var bitList = new List<int>();
        var next = 0;
        for (var k = 0; k < classes.Length; k++)
        {
            if (aligned) next = (next + 63) & ~63;
            classStart[k] = next;
            foreach (var i in byClass[classes[k]]) { positions.Add(i); bitList.Add(next++); }
        }
        classStart[^1] = next;
        var words = (next + 63) / 64;
        var bits = bitList.ToArray();
        var right = new ulong[entries.Count][];
        var predicted = new ulong[entries.Count][];
        // Cancellable between entries: at zoo scale this takes a core for a while, and a verdict makes it wasted work.
        Parallel.For(0, entries.Count, new ParallelOptions { CancellationToken = cancel, MaxDegreeOfParallelism = parallelism }, e =>
        {
            // On the pinned object heap: a zoo's matrix is 12 MB of rows that live through the bootstrap; in the youngest
            // generations each collection (often inside the next board's request) copied them onward.
            var r = GC.AllocateArray<ulong>(words, pinned: true);
            var p = GC.AllocateArray<ulong>(words, pinned: true);
            var top1s = entries[e].Top1s;
            var hits = entries[e].HitsFor(images);
            var top5 = entries[e].K == 5;
            for (var u = 0; u < positions.Count; u++)
            {
                var i = positions[u];
                var top1 = top1s[i];
                if (top1 < 0) continue;
                var bit = bits[u];
                p[bit >> 6] |= 1UL << bit;
                var ok = metric switch
                {
                    GradedMetric.Top1 => top1 == images.OriginalClass[i],
                    GradedMetric.Top5 => top5 && hits.Original(i),
                    GradedMetric.Real => images.Reference(i).Contains(top1),
                    _ => labels.StateOf(i, top1) is var s && (s == ItemState.Correct || (unclearCountsCorrect && s == ItemState.Unclear)),
                };
                if (ok) r[bit >> 6] |= 1UL << bit;
            }
            right[e] = r;
            predicted[e] = p;
        });
        return new CorrectnessMatrix(classes, classStart, bits, words, right, predicted);
    }
}
