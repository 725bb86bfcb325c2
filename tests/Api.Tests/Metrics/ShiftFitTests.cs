using System.Globalization;
using Relabel.Api.Metrics;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Metrics;

/// <summary>The shift fit on the public timm results (ImageNet against ImageNetV2 matched-frequency), checked against
/// least squares and transforms computed here with MathNet.</summary>
public sealed class ShiftFitTests(ITestOutputHelper output)
{
    private static List<(string Model, double X, double Y)> TimmPairs()
    {
        static Dictionary<string, double> Top1(string file) =>
            File.ReadLines(Path.Combine(TestData.SharedData, "leaderboards", file)).Skip(1)
                .Select(line => line.Split(','))
                // A few model names appear twice (the same weights at two sizes): the first row counts.
                .GroupBy(f => f[0])
                .ToDictionary(g => g.Key, g => double.Parse(g.First()[2], CultureInfo.InvariantCulture) / 100);
        var imagenet = Top1("timm-results-imagenet.csv");
        var v2 = Top1("timm-results-imagenetv2-matched-frequency.csv");
        return imagenet.Where(p => v2.ContainsKey(p.Key)).Select(p => (p.Key, p.Value, v2[p.Key])).ToList();
    }

    [Fact]
    public void The_logit_fit_and_effective_robustness_equal_an_independent_computation_on_the_timm_results()
    {
        var pairs = TimmPairs();
        Assert.True(pairs.Count > 1000, $"{pairs.Count} models in both files");
        var fit = ShiftFit.Of(pairs.Select(p => (p.X, p.Y)).ToList(), FitSpace.Logit)!;

        static double Logit(double p) => Math.Log(p / (1 - p));
        var (intercept, slope) = MathNet.Numerics.Fit.Line(pairs.Select(p => Logit(p.X)).ToArray(), pairs.Select(p => Logit(p.Y)).ToArray());
        Assert.Equal(slope, fit.Slope, 1e-9);
        Assert.Equal(intercept, fit.Intercept, 1e-9);
        Assert.Equal(MathNet.Numerics.Statistics.Correlation.Pearson(pairs.Select(p => Logit(p.X)), pairs.Select(p => Logit(p.Y))), fit.R, 1e-9);
        foreach (var (_, x, y) in pairs)
            Assert.Equal(y - 1 / (1 + Math.Exp(-(slope * Logit(x) + intercept))), fit.EffectiveRobustness(x, y), 1e-9);

        // Probit: the same with the normal quantile.
        var probit = ShiftFit.Of(pairs.Select(p => (p.X, p.Y)).ToList(), FitSpace.Probit)!;
        static double Q(double p) => MathNet.Numerics.Distributions.Normal.InvCDF(0, 1, p);
        var (pi, ps) = MathNet.Numerics.Fit.Line(pairs.Select(p => Q(p.X)).ToArray(), pairs.Select(p => Q(p.Y)).ToArray());
        Assert.Equal(ps, probit.Slope, 1e-9);
        Assert.Equal(pi, probit.Intercept, 1e-9);

        // Why the space matters: the linear fit disagrees with the logit fit on the sign of effective robustness for many models.
        var linear = ShiftFit.Of(pairs.Select(p => (p.X, p.Y)).ToList(), FitSpace.Linear)!;
        var disagree = pairs.Count(p => Math.Sign(linear.EffectiveRobustness(p.X, p.Y)) != Math.Sign(fit.EffectiveRobustness(p.X, p.Y)));
        output.WriteLine($"logit slope {fit.Slope:F4}, intercept {fit.Intercept:F4}, r {fit.R:F4}; sign disagreements with linear: {disagree} of {pairs.Count}");
        Assert.InRange(disagree, pairs.Count / 10, pairs.Count / 2);
    }

    [Fact]
    public void The_bootstrap_band_contains_the_fit_and_narrows_with_more_points()
    {
        var pairs = TimmPairs().Select(p => (p.X, p.Y)).ToList();
        var band = ShiftFit.Band(pairs, FitSpace.Logit);
        Assert.Equal(41, band.Length);
        Assert.All(band, b => Assert.InRange(b.Y, b.Lower, b.Upper));
        var few = ShiftFit.Band(pairs.Where((_, i) => i % 50 == 0).ToList(), FitSpace.Logit);
        Assert.True(few.Average(b => b.Upper - b.Lower) > band.Average(b => b.Upper - b.Lower));
        Assert.Equal(band, ShiftFit.Band(pairs, FitSpace.Logit));
        Assert.Empty(ShiftFit.Band([(0.5, 0.4)], FitSpace.Logit));
    }
}
