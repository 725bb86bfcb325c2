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
/// A weighted count Σ w_i x_i over bitsets is Σ_k popcount(x AND [w ≥ k]): three dense levels cover weights up to 3 and
/// the few heavier images (about 2 %) are added one by one. Each replicate has its own seeded generator, so the result
/// does not depend on how replicates are spread over threads.
/// </summary>
public static class RankBootstrap
{
    public const int DefaultReplicates = 1000;
    public const ulong DefaultSeed = 20200712;

    public static BootstrapResult Run(
        CorrectnessMatrix matrix, bool perClass, IReadOnlyList<(int First, int Second)> pairs,
        int replicates = DefaultReplicates, ulong seed = DefaultSeed)
    {
        if (perClass && matrix.ClassStart.SkipLast(1).Any(s => s % 64 != 0))
            throw new ArgumentException("A per-class bootstrap needs an aligned layout.", nameof(matrix));
        var entries = matrix.Right.Length;
        var values = new double[entries][];
        for (var e = 0; e < entries; e++) values[e] = new double[replicates];
        if (matrix.Images > 0 && entries > 0)
            Parallel.For(0, replicates, () => new Scratch(matrix), (r, _, scratch) =>
            {
                scratch.Draw(matrix, seed, r);
                for (var e = 0; e < entries; e++) values[e][r] = scratch.Value(matrix, matrix.Right[e], perClass);
                return scratch;
            }, _ => { });

        var ranks = new RankInterval[entries];
        var perReplicate = new int[entries][];
        for (var e = 0; e < entries; e++) perReplicate[e] = new int[replicates];
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

    /// <summary>One thread's buffers: the weights of a draw as three dense levels and a sparse rest.</summary>
    private sealed class Scratch(CorrectnessMatrix matrix)
    {
        private readonly int[] _weight = new int[matrix.Words * 64];
        private readonly ulong[] _level1 = new ulong[matrix.Words];
        private readonly ulong[] _level2 = new ulong[matrix.Words];
        private readonly ulong[] _level3 = new ulong[matrix.Words];
        private readonly List<(int Bit, int Extra)> _heavy = [];
        private readonly double[] _classDraws = new double[matrix.Classes.Length];
        private readonly double[] _classRight = new double[matrix.Classes.Length];

        public void Draw(CorrectnessMatrix m, ulong seed, int replicate)
        {
            Array.Clear(_weight);
            Array.Clear(_level1); Array.Clear(_level2); Array.Clear(_level3);
            _heavy.Clear();
            var state = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(replicate + 1));
            var n = (ulong)m.Images;
            for (var k = 0; k < m.Images; k++)
            {
                // Lemire's multiply-shift maps 64 random bits to 0..n-1.
                var u = (int)Math.BigMul(SplitMix64(ref state), n, out _);
                _weight[m.Bits[u]]++;
            }
            foreach (var bit in m.Bits)
            {
                var w = _weight[bit];
                if (w == 0) continue;
                var mask = 1UL << bit;
                _level1[bit >> 6] |= mask;
                if (w >= 2) _level2[bit >> 6] |= mask;
                if (w >= 3) _level3[bit >> 6] |= mask;
                if (w >= 4) _heavy.Add((bit, w - 3));
            }
            if (_classDraws.Length == 0) return;
            for (var k = 0; k < _classDraws.Length; k++) _classDraws[k] = 0;
            var c = 0;
            foreach (var bit in m.Bits)
            {
                while (bit >= m.ClassStart[c + 1]) c++;
                _classDraws[c] += _weight[bit];
            }
        }

        public double Value(CorrectnessMatrix m, ulong[] right, bool perClass)
        {
            if (!perClass)
            {
                long sum = 0;
                for (var w = 0; w < right.Length; w++)
                {
                    var x = right[w];
                    if (x == 0) continue;
                    sum += BitOperations.PopCount(x & _level1[w]) + BitOperations.PopCount(x & _level2[w]) + BitOperations.PopCount(x & _level3[w]);
                }
                foreach (var (bit, extra) in _heavy)
                    if ((right[bit >> 6] & (1UL << bit)) != 0) sum += extra;
                return (double)sum / m.Images;
            }
            // Aligned layout: every class range starts on a word.
            for (var k = 0; k < _classRight.Length; k++)
            {
                long sum = 0;
                for (var w = m.ClassStart[k] >> 6; w < (m.ClassStart[k + 1] + 63) >> 6; w++)
                {
                    var x = right[w];
                    if (x == 0) continue;
                    sum += BitOperations.PopCount(x & _level1[w]) + BitOperations.PopCount(x & _level2[w]) + BitOperations.PopCount(x & _level3[w]);
                }
                _classRight[k] = sum;
            }
            var cls = 0;
            foreach (var (bit, extra) in _heavy)
            {
                if ((right[bit >> 6] & (1UL << bit)) == 0) continue;
                while (bit >= m.ClassStart[cls + 1]) cls++;
                _classRight[cls] += extra;
            }
            double total = 0;
            var classes = 0;
            for (var k = 0; k < _classRight.Length; k++)
            {
                if (_classDraws[k] == 0) continue;
                total += _classRight[k] / _classDraws[k];
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
