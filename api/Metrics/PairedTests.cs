using MathNet.Numerics.Distributions;

namespace Relabel.Api.Metrics;

/// <summary>
/// Two entries graded on the same images: both right (A), only the first (B), only the second (C), both wrong (D).
/// </summary>
public sealed record PairedTable(long BothRight, long OnlyFirst, long OnlySecond, long BothWrong)
{
    public long Images => BothRight + OnlyFirst + OnlySecond + BothWrong;
}

/// <summary>The difference of two paired accuracies with its interval and McNemar's exact p-value.</summary>
public sealed record PairedDifference(double? First, double? Second, double? Difference, double? Lower, double? Upper, double PValue);

/// <summary>Tests for paired proportions and rank agreement. Pure.</summary>
public static class PairedTests
{
    /// <summary>
    /// McNemar's exact test (the two-sided binomial test on the discordant pairs): with b = only first right and
    /// c = only second right, p = min(1, 2 · P(X ≤ min(b, c))) for X ~ Binomial(b + c, 1/2); 1 when b + c = 0.
    /// </summary>
    public static double McNemarExact(long onlyFirst, long onlySecond)
    {
        var n = onlyFirst + onlySecond;
        if (n == 0) return 1;
        var k = Math.Min(onlyFirst, onlySecond);
        if (2 * k == n) return 1;
        return Math.Min(1, 2 * Binomial.CDF(0.5, (int)n, k));
    }

    /// <summary>The Wilson score interval for x successes of n at level 1 - alpha.</summary>
    public static Interval? Wilson(long x, long n, double alpha)
    {
        if (n <= 0) return null;
        var z = Normal.InvCDF(0, 1, 1 - alpha / 2);
        double p = (double)x / n, z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// The difference of paired proportions p1 - p2 (p1 = (A + B) / n, p2 = (A + C) / n) with Newcombe's hybrid score
    /// interval for paired data (Newcombe 1998, "Improved confidence intervals for the difference between binomial
    /// proportions based on paired data", method 10): with Wilson intervals (l1, u1) and (l2, u2) and
    /// φ = (AD - BC) / √((A+B)(C+D)(A+C)(B+D)) (0 when a margin is 0),
    /// lower = δ - √((p1 - l1)² - 2φ(p1 - l1)(u2 - p2) + (u2 - p2)²),
    /// upper = δ + √((u1 - p1)² - 2φ(u1 - p1)(p2 - l2) + (p2 - l2)²).
    /// </summary>
    public static PairedDifference Difference(PairedTable t, double alpha)
    {
        var p = McNemarExact(t.OnlyFirst, t.OnlySecond);
        var n = t.Images;
        if (n == 0) return new PairedDifference(null, null, null, null, null, p);
        double a = t.BothRight, b = t.OnlyFirst, c = t.OnlySecond, d = t.BothWrong;
        var p1 = (a + b) / n;
        var p2 = (a + c) / n;
        var w1 = Wilson(t.BothRight + t.OnlyFirst, n, alpha)!;
        var w2 = Wilson(t.BothRight + t.OnlySecond, n, alpha)!;
        var margins = (a + b) * (c + d) * (a + c) * (b + d);
        var phi = margins == 0 ? 0 : (a * d - b * c) / Math.Sqrt(margins);
        var delta = p1 - p2;
        double d1 = p1 - w1.Lower, e1 = w1.Upper - p1, d2 = p2 - w2.Lower, e2 = w2.Upper - p2;
        var lower = delta - Math.Sqrt(Math.Max(0, d1 * d1 - 2 * phi * d1 * e2 + e2 * e2));
        var upper = delta + Math.Sqrt(Math.Max(0, e1 * e1 - 2 * phi * e1 * d2 + d2 * d2));
        return new PairedDifference(p1, p2, delta, Math.Max(-1, lower), Math.Min(1, upper), p);
    }

    /// <summary>
    /// Kendall's tau-b between two scorings of the same entries (higher is better in both): (concordant - discordant) /
    /// √((n0 - ties in x)(n0 - ties in y)) over the n0 = n(n-1)/2 pairs; null with fewer than two entries or when one
    /// scoring ties everything.
    /// </summary>
    public static double? KendallTauB(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("Both scorings need the same entries.");
        // Knight's O(n log n) count (as scipy's kendalltau): sort by (x, y), count the ties, then the discordant pairs as
        // the swaps of a merge sort by y. A board of 1,500 entries compares 15 pairs of rankings on every change.
        var n = x.Count;
        long pairs = (long)n * (n - 1) / 2;
        if (pairs == 0) return null;
        // Sorted by x as keys (no comparer call per comparison), then each run of equal x by y.
        var order = Enumerable.Range(0, n).ToArray();
        var xs = x.ToArray();
        Array.Sort(xs, order);
        var values = new double[n];
        for (var i = 0; i < n; i++) values[i] = y[order[i]];
        for (int i = 0, j; i < n; i = j)
        {
            for (j = i + 1; j < n && xs[j] == xs[i]; j++) { }
            if (j - i > 1) Array.Sort(values, order, i, j - i);
        }
        long tiesX = 0, tiesXY = 0;
        for (int i = 0, runX = 1, runXY = 1; i < n; i++)
        {
            var last = i + 1 == n;
            var sameX = !last && xs[i + 1] == xs[i];
            var sameXY = sameX && values[i + 1] == values[i];
            if (sameX) runX++; else { tiesX += (long)runX * (runX - 1) / 2; runX = 1; }
            if (sameXY) runXY++; else { tiesXY += (long)runXY * (runXY - 1) / 2; runXY = 1; }
        }
        var swaps = MergeSortSwaps(values, new double[n], 0, n);
        long tiesY = 0;
        for (int i = 0, run = 1; i < n; i++)
        {
            if (i + 1 < n && values[i + 1] == values[i]) run++; else { tiesY += (long)run * (run - 1) / 2; run = 1; }
        }
        // Concordant minus discordant: of the pairs, those tied in neither, less twice the discordant ones.
        var difference = pairs - tiesX - tiesY + tiesXY - 2 * swaps;
        var denominator = Math.Sqrt((double)(pairs - tiesX) * (pairs - tiesY));
        return denominator == 0 ? null : difference / denominator;
    }

    /// <summary>Sorts values[from..to) ascending and returns how many pairs were out of order (strictly greater first).</summary>
    private static long MergeSortSwaps(double[] values, double[] buffer, int from, int to)
    {
        if (to - from < 2) return 0;
        var middle = (from + to) / 2;
        var swaps = MergeSortSwaps(values, buffer, from, middle) + MergeSortSwaps(values, buffer, middle, to);
        int left = from, right = middle, k = from;
        while (left < middle && right < to)
        {
            if (values[right] < values[left]) { swaps += middle - left; buffer[k++] = values[right++]; }
            else buffer[k++] = values[left++];
        }
        while (left < middle) buffer[k++] = values[left++];
        while (right < to) buffer[k++] = values[right++];
        Array.Copy(buffer, from, values, from, to - from);
        return swaps;
    }
}
