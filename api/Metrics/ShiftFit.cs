using MathNet.Numerics.Distributions;

namespace Relabel.Api.Metrics;

/// <summary>The space in which shifted accuracy is fitted against original accuracy.</summary>
public enum FitSpace { Logit, Probit, Linear }

/// <summary>One point of the fit's bootstrap band: the 95 % range of the fitted shifted accuracy at an original accuracy.</summary>
public sealed record BandPoint(double X, double Y, double Lower, double Upper);

/// <summary>
/// The linear trend of shifted against original accuracy in a transformed space, and effective robustness (Taori et al.
/// 2020, "Measuring Robustness to Natural Distribution Shifts in Image Classification"): with f the logit (their
/// choice), the probit (Miller et al. 2021) or the identity (the linear fit of Recht et al. 2019 and Shankar et al. 2020,
/// Figure 1), least squares of f(y) on f(x) gives f(y) = Slope f(x) + Intercept; an entry's effective robustness is its
/// shifted accuracy minus the fit's prediction f⁻¹(Slope f(x) + Intercept). R is Pearson's r in the fitted space.
/// Accuracies of exactly 0 or 1 are clamped to [1e-4, 1 - 1e-4] before a logit or probit.
/// </summary>
public sealed record ShiftFit(FitSpace Space, double Slope, double Intercept, double R, int Points)
{
    public const double Clamp = 1e-4;

    public static double Transform(FitSpace space, double accuracy)
    {
        if (space == FitSpace.Linear) return accuracy;
        var p = Math.Clamp(accuracy, Clamp, 1 - Clamp);
        return space == FitSpace.Logit ? Math.Log(p / (1 - p)) : Normal.InvCDF(0, 1, p);
    }

    public static double Inverse(FitSpace space, double t) => space switch
    {
        FitSpace.Linear => t,
        FitSpace.Logit => 1 / (1 + Math.Exp(-t)),
        _ => Normal.CDF(0, 1, t),
    };

    /// <summary>The fitted shifted accuracy at an original accuracy.</summary>
    public double Predict(double x) => Inverse(Space, Slope * Transform(Space, x) + Intercept);

    public double EffectiveRobustness(double x, double y) => y - Predict(x);

    /// <summary>Null with fewer than two points or when all x (or all y) are equal in the fitted space.</summary>
    public static ShiftFit? Of(IReadOnlyList<(double X, double Y)> points, FitSpace space)
    {
        if (points.Count < 2) return null;
        var xs = new double[points.Count];
        var ys = new double[points.Count];
        for (var i = 0; i < points.Count; i++) { xs[i] = Transform(space, points[i].X); ys[i] = Transform(space, points[i].Y); }
        return Fit(xs, ys, space);
    }

    private static ShiftFit? Fit(double[] xs, double[] ys, FitSpace space)
    {
        double mx = xs.Average(), my = ys.Average();
        double sxx = 0, syy = 0, sxy = 0;
        for (var i = 0; i < xs.Length; i++)
        {
            var dx = xs[i] - mx;
            var dy = ys[i] - my;
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
        }
        if (sxx == 0 || syy == 0) return null;
        var slope = sxy / sxx;
        return new ShiftFit(space, slope, my - slope * mx, sxy / Math.Sqrt(sxx * syy), xs.Length);
    }

    /// <summary>
    /// A 95 % percentile bootstrap band for the fit: the points are resampled with replacement
    /// <paramref name="replicates"/> times (seeded, so the band is reproducible), each resample is fitted, and at
    /// <paramref name="steps"/> original accuracies spread evenly in the fitted space over the points' range the band is
    /// the 2.5th and 97.5th percentile of the fitted shifted accuracies. Empty without a fit.
    /// </summary>
    public static BandPoint[] Band(IReadOnlyList<(double X, double Y)> points, FitSpace space, int replicates = 1000, int steps = 41, int seed = 2020)
    {
        var fit = Of(points, space);
        if (fit is null) return [];
        var n = points.Count;
        var xs = points.Select(p => Transform(space, p.X)).ToArray();
        var ys = points.Select(p => Transform(space, p.Y)).ToArray();
        double low = xs.Min(), high = xs.Max();
        var grid = Enumerable.Range(0, steps).Select(k => low + (high - low) * k / (steps - 1)).ToArray();
        var predictions = new double[steps][];
        for (var k = 0; k < steps; k++) predictions[k] = new double[replicates];
        var random = new Random(seed);
        var bx = new double[n];
        var by = new double[n];
        var done = 0;
        for (var r = 0; r < replicates; r++)
        {
            for (var i = 0; i < n; i++) { var j = random.Next(n); bx[i] = xs[j]; by[i] = ys[j]; }
            // A resample of one distinct point has no line: it is left out (rare unless there are very few points).
            if (Fit(bx, by, space) is not { } b) continue;
            for (var k = 0; k < steps; k++) predictions[k][done] = Inverse(space, b.Slope * grid[k] + b.Intercept);
            done++;
        }
        if (done == 0) return [];
        return grid.Select((t, k) =>
        {
            var sorted = predictions[k].AsSpan(0, done).ToArray();
            Array.Sort(sorted);
            var x = Inverse(space, t);
            return new BandPoint(x, fit.Predict(x), Percentile(sorted, 0.025), Percentile(sorted, 0.975));
        }).ToArray();
    }

    /// <summary>The p-quantile of sorted values by linear interpolation between order statistics.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 1) return sorted[0];
        var h = (sorted.Length - 1) * p;
        var i = (int)Math.Floor(h);
        return i + 1 < sorted.Length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
    }
}
