using System.Numerics;

namespace Relabel.Api.Metrics;

/// <summary>An entry's 95 % bootstrap interval of its rank among the entries (1 = best).</summary>
public sealed record RankInterval(int Lower, int Upper);

/// <summary>The bootstrap difference of two entries' values: its 95 % interval and a two-sided p-value.</summary>
public sealed record BootstrapDifference(double Lower, double Upper, double PValue);

/// <summary>The outcome of one bootstrap: every entry's rank interval, and the difference of each pair asked for.</summary>
public sealed record BootstrapResult(int Replicates, ulong Seed, RankInterval[] Ranks, BootstrapDifference[] Differences);

/// <summary>
/// The nonparametric bootstrap over images (Efron 1979) for a board's ranking: each replicate draws as many images as
/// there are, uniformly with replacement, regrades every entry on the draw (micro: right draws / draws; per-class: the
/// mean over classes drawn of the class's right draws / its draws), and ranks the entries (rank = 1 + the number of
/// entries with a strictly higher value). An entry's rank interval is the 2.5th to 97.5th percentile of its ranks.
/// Every entry is graded on the same draw, so differences are paired.
/// The draw's weights are kept bit-sliced, so a weighted count Σ w_i x_i over a bitset x costs three popcounts per word. Each replicate has its own seeded generator, so the result
/// does not depend on how replicates are spread over threads.
/// </summary>
public static class RankBootstrap
{
    public const int DefaultReplicates = 1000;
    public const ulong DefaultSeed = 20200712;

    /// <param name="parallelism">Threads at most (-1: all cores); a server leaves one to its requests.</param>
    /// <param name="cancel">Stops the draws (OperationCanceledException): a server drops the bootstrap of a board that a newer one replaced.</param>
    public static BootstrapResult Run(
        CorrectnessMatrix matrix, bool perClass, IReadOnlyList<(int First, int Second)> pairs,
        int replicates = DefaultReplicates, ulong seed = DefaultSeed, int parallelism = -1, CancellationToken cancel = default)
    {
        if (perClass && matrix.ClassStart.SkipLast(1).Any(s => s % 64 != 0))
            throw new ArgumentException("A per-class bootstrap needs an aligned layout.", nameof(matrix));
        var entries = matrix.Right.Length;
        var values = new double[entries][];
        // Pinned, as the matrix's rows: they live through the bootstrap and are megabytes at zoo scale.
        for (var e = 0; e < entries; e++) values[e] = GC.AllocateArray<double>(replicates, pinned: true);
        if (matrix.Images > 0 && entries > 0)
            Parallel.For(0, replicates, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancel }, () => new Scratch(matrix), (r, _, scratch) =>
            {
                scratch.Draw(matrix, seed, r);
                for (var e = 0; e < entries; e++) values[e][r] = scratch.Value(matrix, matrix.Right[e], perClass);
                return scratch;
            }, _ => { });

        var ranks = new RankInterval[entries];
        var perReplicate = new int[entries][];
        for (var e = 0; e < entries; e++) perReplicate[e] = GC.AllocateArray<int>(replicates, pinned: true);
        var order = new int[entries];
        var keys = new double[entries];
        for (var r = 0; r < replicates; r++)
        {
            for (var e = 0; e < entries; e++) { order[e] = e; keys[e] = -values[e][r]; }
            Array.Sort(keys, order);
            // keys ascend (values descend): an entry's rank is 1 + the number of strictly higher values.
            var rank = 1;
            for (var k = 0; k < entries; k++)
            {
                if (k > 0 && keys[k] != keys[k - 1]) rank = k + 1;
                perReplicate[order[k]][r] = rank;
            }
        }
        for (var e = 0; e < entries; e++)
        {
            var sorted = perReplicate[e];
            Array.Sort(sorted);
            ranks[e] = new RankInterval(sorted[LowerIndex(replicates)], sorted[UpperIndex(replicates)]);
        }

        var differences = pairs.Select(p =>
        {
            var d = new double[replicates];
            int atMost = 0, atLeast = 0;
            for (var r = 0; r < replicates; r++)
            {
                d[r] = values[p.First][r] - values[p.Second][r];
                if (d[r] <= 0) atMost++;
                if (d[r] >= 0) atLeast++;
            }
            Array.Sort(d);
            return new BootstrapDifference(d[LowerIndex(replicates)], d[UpperIndex(replicates)],
                Math.Min(1, 2.0 * Math.Min(atMost, atLeast) / replicates));
        }).ToArray();
        return new BootstrapResult(replicates, seed, ranks, differences);
    }

    private static int LowerIndex(int n) => Math.Clamp((int)Math.Floor(0.025 * n), 0, n - 1);
    private static int UpperIndex(int n) => Math.Clamp((int)Math.Ceiling(0.975 * n) - 1, 0, n - 1);

    /// <summary>
    /// One thread's buffers: the weights of a draw bit-sliced (bit j of every image's weight in one bitset, j = 0..2), so
    /// that Σ w_i x_i = popcount(x AND B0) + 2 popcount(x AND B1) + 4 popcount(x AND B2) + 8 per overflow. A draw adds one
    /// to a weight with a carry through the slices; a weight that reaches 8 (an image drawn eight times: about one in
    /// 100,000) wraps to 0 and is kept in a short list.
    /// </summary>
    private sealed class Scratch(CorrectnessMatrix matrix)
    {
        private readonly ulong[] _b0 = new ulong[matrix.Words];
        private readonly ulong[] _b1 = new ulong[matrix.Words];
        private readonly ulong[] _b2 = new ulong[matrix.Words];
        private readonly List<int> _overflow = [];
        private readonly double[] _classDraws = new double[matrix.Classes.Length];
        private readonly double[] _classRight = new double[matrix.Classes.Length];
        private readonly int[] _wordClass = WordClasses(matrix);

        private static int[] WordClasses(CorrectnessMatrix m)
        {
            var classes = new int[m.Words];
            for (var c = 0; c < m.Classes.Length; c++)
                for (var w = m.ClassStart[c] >> 6; w < Math.Min(m.Words, (m.ClassStart[c + 1] + 63) >> 6); w++) classes[w] = c;
            return classes;
        }

        public void Draw(CorrectnessMatrix m, ulong seed, int replicate)
        {
            Array.Clear(_b0); Array.Clear(_b1); Array.Clear(_b2);
            _overflow.Clear();
            var state = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(replicate + 1));
            var images = m.Images;
            var n = (ulong)images;
            var bits = m.Dense ? null : m.Bits;
            ulong[] b0 = _b0, b1 = _b1, b2 = _b2;
            // Lemire's multiply-shift maps 32 random bits to 0..n-1: two draws per 64-bit number.
            ulong r = 0;
            for (var k = 0; k < images; k++)
            {
                if ((k & 1) == 0) r = SplitMix64(ref state);
                else r >>= 32;
                var u = (int)((r & 0xFFFFFFFF) * n >> 32);
                var bit = bits is null ? u : bits[u];
                var w = bit >> 6;
                var carry = 1UL << bit;
                var next = b0[w] & carry; b0[w] ^= carry; carry = next;
                next = b1[w] & carry; b1[w] ^= carry; carry = next;
                next = b2[w] & carry; b2[w] ^= carry;
                if (next != 0) _overflow.Add(bit);
            }
            if (_classDraws.Length == 0) return;
            // Per class: how many draws fell in it (the aligned layout starts every class on a word).
            for (var c = 0; c < _classDraws.Length; c++) _classDraws[c] = Count(m, c, null);
            foreach (var bit in _overflow) _classDraws[ClassOf(m, bit)] += 8;
        }

        /// <summary>The weighted count over the class's words (all words when class &lt; 0) of the images set in x (all when null).</summary>
        private long Count(CorrectnessMatrix m, int cls, ulong[]? right)
        {
            int from = 0, to = m.Words;
            if (cls >= 0) { from = m.ClassStart[cls] >> 6; to = (m.ClassStart[cls + 1] + 63) >> 6; }
            long ones = 0, twos = 0, fours = 0;
            for (var w = from; w < to; w++)
            {
                var x = right is null ? ulong.MaxValue : right[w];
                ones += BitOperations.PopCount(x & _b0[w]);
                twos += BitOperations.PopCount(x & _b1[w]);
                fours += BitOperations.PopCount(x & _b2[w]);
            }
            return ones + 2 * twos + 4 * fours;
        }

        private static int ClassOf(CorrectnessMatrix m, int bit)
        {
            var k = Array.BinarySearch(m.ClassStart, bit);
            return k >= 0 ? k : ~k - 1;
        }

        public double Value(CorrectnessMatrix m, ulong[] right, bool perClass)
        {
            if (!perClass)
            {
                var sum = Count(m, -1, right);
                foreach (var bit in _overflow) sum += 8 * (long)((right[bit >> 6] >> bit) & 1);
                return (double)sum / m.Images;
            }
            // One pass over the words: in an aligned layout each word belongs to one class.
            Array.Clear(_classRight);
            var wordClass = _wordClass;
            for (var w = 0; w < right.Length; w++)
            {
                var x = right[w];
                if (x == 0) continue;
                _classRight[wordClass[w]] += BitOperations.PopCount(x & _b0[w]) + 2 * BitOperations.PopCount(x & _b1[w])
                                             + 4 * BitOperations.PopCount(x & _b2[w]);
            }
            foreach (var bit in _overflow)
                if (((right[bit >> 6] >> bit) & 1) != 0) _classRight[ClassOf(m, bit)] += 8;
            double total = 0;
            var classes = 0;
            for (var c = 0; c < _classRight.Length; c++)
            {
                if (_classDraws[c] == 0) continue;
                total += _classRight[c] / _classDraws[c];
                classes++;
            }
            return classes == 0 ? 0 : total / classes;
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
