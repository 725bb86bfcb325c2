using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Relabel.Api.Metrics;

/// <summary>A two-sided confidence interval for a proportion.</summary>
public sealed record Interval(double Lower, double Upper);

/// <summary>
/// The Clopper-Pearson ("exact") interval for a binomial proportion with x successes in n trials at level 1 - alpha:
/// lower = B(alpha/2; x, n - x + 1) and upper = B(1 - alpha/2; x + 1, n - x), where B(p; a, b) is the p-quantile of
/// the Beta(a, b) distribution, with lower = 0 when x = 0 and upper = 1 when x = n (Clopper and Pearson, 1934).
/// </summary>
public static class ClopperPearson
{
    public const double DefaultAlpha = 0.05;

    /// <summary>An interval kept, and whether a caller has asked for it (rather than the warm-up alone).</summary>
    private sealed class Known(Interval interval, bool asked)
    {
        public Interval Interval { get; } = interval;
        public bool Asked { get; set; } = asked;
    }

    // The function is pure and a board recomputed after a label change asks again for most of the same (x, n): top-1,
    // top-5 and ReaL counts do not depend on the labels. Two generations bound what is kept (about 10 MB): when the
    // newer fills, the older is dropped, and an interval found in the older moves to the newer.
    private const int Generation = 60_000;
    private static ConcurrentDictionary<(long, long, double), Known> _newer = new(), _older = new();
    // How many the newer holds, about (ConcurrentDictionary.Count takes every lock).
    private static int _kept;
    private static readonly Lock Turn = new();

    // A verdict moves a count by one: the neighbours of every interval asked for are computed in the background
    // (WarmNeighboursAsync), so the rows a verdict changes find theirs made. Bounded: past it, neighbours are skipped.
    private static readonly Channel<(long X, long N, double Alpha)> Neighbours = Channel.CreateBounded<(long, long, double)>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite });

    public static Interval? Of(long x, long n, double alpha = DefaultAlpha)
    {
        if (n <= 0) return null;
        if (x < 0 || x > n) throw new ArgumentOutOfRangeException(nameof(x), $"x = {x} is not within 0..{n}.");
        if (alpha is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be within (0, 1).");
        var known = Find((x, n, alpha));
        if (known is { Asked: true }) return known.Interval;
        if (known is null) Keep((x, n, alpha), known = new Known(Compute(x, n, alpha), true));
        else known.Asked = true;
        if (x > 0) Neighbours.Writer.TryWrite((x - 1, n, alpha));
        if (x < n) Neighbours.Writer.TryWrite((x + 1, n, alpha));
        return known.Interval;
    }

    /// <summary>
    /// Computes the neighbours of the intervals asked for until stopped (a background task; several may share the work): after a
    /// verdict, a zoo board's changed rows then take their new intervals from the memo instead of 20,000 Beta quantiles.
    /// </summary>
    /// <param name="settle">How long no new neighbour must come before the warm-up starts: a board asks for thousands
    /// of intervals at once, and the warm-up should not take a core from it while it is being built and sent; but the
    /// next verdict may come soon after, and its board finds only the neighbours made by then.</param>
    public static async Task WarmNeighboursAsync(TimeSpan settle, CancellationToken stop)
    {
        while (await Neighbours.Reader.WaitToReadAsync(stop))
        {
            // Until the board that asked for them is done asking: its rows ask for intervals while it is built.
            int waiting;
            do
            {
                waiting = Neighbours.Reader.Count;
                await Task.Delay(settle, stop);
            } while (Neighbours.Reader.Count != waiting);
            while (Neighbours.Reader.TryRead(out var next))
                if (Find(next) is null) Keep(next, new Known(Compute(next.X, next.N, next.Alpha), false));
        }
    }

    /// <summary>Whether the interval is kept (asked for, or made by the warm-up); for the tests.</summary>
    internal static bool IsKept(long x, long n, double alpha = DefaultAlpha) => Find((x, n, alpha)) is not null;

    private static Known? Find((long, long, double) key)
    {
        if (_newer.TryGetValue(key, out var known)) return known;
        if (!_older.TryGetValue(key, out known)) return null;
        Keep(key, known);
        return known;
    }

    private static void Keep((long, long, double) key, Known known)
    {
        if (!_newer.TryAdd(key, known) || Interlocked.Increment(ref _kept) < Generation) return;
        lock (Turn)
        {
            if (Volatile.Read(ref _kept) < Generation) return;
            _older = _newer;
            _newer = new ConcurrentDictionary<(long, long, double), Known>();
            Volatile.Write(ref _kept, 0);
        }
    }

    private static Interval Compute(long x, long n, double alpha) => new(
        x == 0 ? 0 : Beta.Quantile(alpha / 2, x, n - x + 1),
        x == n ? 1 : Beta.Quantile(1 - alpha / 2, x + 1, n - x));
}

/// <summary>The Beta distribution's CDF (the regularized incomplete beta function I_x(a, b)) and its inverse.</summary>
public static class Beta
{
    /// <summary>I_x(a, b), by the continued fraction of Numerical Recipes (6.4) evaluated with Lentz's method.</summary>
    public static double Cdf(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        var logFront = LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x);
        // The continued fraction converges fast for x below the mean-ish point; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) above it.
        return x < (a + 1) / (a + b + 2)
            ? Math.Exp(logFront) * ContinuedFraction(x, a, b) / a
            : 1 - Math.Exp(logFront) * ContinuedFraction(1 - x, b, a) / b;
    }

    /// <summary>The p-quantile: the x with I_x(a, b) = p, by Newton steps kept inside a shrinking bisection bracket.</summary>
    public static double Quantile(double p, double a, double b)
    {
        if (p <= 0) return 0;
        if (p >= 1) return 1;
        double low = 0, high = 1;
        var x = Start(p, a, b);
        var logBeta = LogGamma(a) + LogGamma(b) - LogGamma(a + b);
        for (var i = 0; i < 200; i++)
        {
            var f = Cdf(x, a, b) - p;
            if (f < 0) low = x; else high = x;
            if (high - low < 1e-15) break;
            var density = Math.Exp((a - 1) * Math.Log(x) + (b - 1) * Math.Log(1 - x) - logBeta);
            var next = density > 0 ? x - f / density : double.NaN;
            if (!(next > low && next < high)) next = (low + high) / 2;
            // Newton approaches from one side, so the bracket alone would not shrink: stop on a negligible step (the
            // error after a step of 1e-12 is of its square: far below a double's precision).
            if (Math.Abs(next - x) <= 1e-12 * x) return next;
            x = next;
        }
        return x;
    }

    /// <summary>
    /// Where Newton starts: the normal approximation with its skewness term (Cornish-Fisher), close enough for large a
    /// and b that a few steps reach the quantile (from the mean, a board's intervals at 50,000 images took eight steps
    /// of a costly CDF each); the mean when the approximation falls outside (0, 1).
    /// </summary>
    private static double Start(double p, double a, double b)
    {
        var mean = a / (a + b);
        var sd = Math.Sqrt(a * b / ((a + b) * (a + b) * (a + b + 1)));
        var skew = 2 * (b - a) * Math.Sqrt(a + b + 1) / ((a + b + 2) * Math.Sqrt(a * b));
        var z = MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, p);
        var x = mean + sd * (z + skew * (z * z - 1) / 6);
        return x > 0 && x < 1 ? x : mean;
    }

    private static double ContinuedFraction(double x, double a, double b)
    {
        const double tiny = 1e-300;
        var qab = a + b;
        var qap = a + 1;
        var qam = a - 1;
        var c = 1.0;
        var d = 1 - qab * x / qap;
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        var h = d;
        for (var m = 1; m <= 10_000; m++)
        {
            var m2 = 2 * m;
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d; if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + aa / c; if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return h;
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 terms; relative error about 1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        var sum = Lanczos[0];
        for (var i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (x + i);
        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
