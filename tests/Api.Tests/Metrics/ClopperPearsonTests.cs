using Relabel.Api.Metrics;
using Xunit;
using MathNetSpecial = MathNet.Numerics.SpecialFunctions;

namespace Relabel.Api.Tests.Metrics;

public sealed class ClopperPearsonTests
{
    [Theory]
    [InlineData(0, 10, 0.0, 0.3085)]
    [InlineData(5, 10, 0.1871, 0.8129)]
    [InlineData(10, 10, 0.6915, 1.0)]
    [InlineData(1, 1, 0.025, 1.0)]
    public void Known_intervals_at_95_percent(long x, long n, double lower, double upper)
    {
        var interval = ClopperPearson.Of(x, n)!;
        Assert.Equal(lower, interval.Lower, 4);
        Assert.Equal(upper, interval.Upper, 4);
    }

    [Fact]
    public void With_no_successes_the_upper_limit_has_a_closed_form()
    {
        // P(X = 0) = (1 - p)^n = alpha / 2  =>  p = 1 - (alpha / 2)^(1 / n).
        foreach (var n in new[] { 1, 7, 100, 50_000 })
            foreach (var alpha in new[] { 0.01, 0.05, 0.32 })
                Assert.Equal(1 - Math.Pow(alpha / 2, 1.0 / n), ClopperPearson.Of(0, n, alpha)!.Upper, 1e-12);
    }

    [Fact]
    public async Task The_intervals_one_count_away_from_one_asked_for_are_made_in_the_background_and_exact()
    {
        // An alpha no other test asks for, so nothing else made these.
        const double alpha = 0.0123;
        const long n = 48_917;
        Assert.False(ClopperPearson.IsKept(30_001, n, alpha));
        using var stop = new CancellationTokenSource();
        var warmup = ClopperPearson.WarmNeighboursAsync(TimeSpan.Zero, stop.Token);
        ClopperPearson.Of(30_000, n, alpha);
        for (var i = 0; i < 500 && !(ClopperPearson.IsKept(29_999, n, alpha) && ClopperPearson.IsKept(30_001, n, alpha)); i++) await Task.Delay(10);
        Assert.True(ClopperPearson.IsKept(29_999, n, alpha) && ClopperPearson.IsKept(30_001, n, alpha), "the neighbours were not made");
        // Two counts away nobody asked for.
        Assert.False(ClopperPearson.IsKept(30_002, n, alpha));
        foreach (var x in new long[] { 29_999, 30_001 })
        {
            var interval = ClopperPearson.Of(x, n, alpha)!;
            Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(x, n - x + 1, alpha / 2), interval.Lower, 1e-9);
            Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(x + 1, n - x, 1 - alpha / 2), interval.Upper, 1e-9);
        }
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmup);
    }

    [Fact]
    public void Limits_equal_the_beta_quantiles_of_an_independent_library()
    {
        foreach (var (x, n) in new (long, long)[] { (1, 3), (3, 17), (42, 100), (450, 1000), (42_164, 46_837), (49_999, 50_000), (37_512, 50_000) })
            foreach (var alpha in new[] { 0.05, 0.01, 0.1 })
            {
                var interval = ClopperPearson.Of(x, n, alpha)!;
                Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(x, n - x + 1, alpha / 2), interval.Lower, 1e-9);
                Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(x + 1, n - x, 1 - alpha / 2), interval.Upper, 1e-9);
            }
    }

    [Fact]
    public void The_limits_are_where_the_binomial_tails_equal_half_alpha()
    {
        // Definition: P(X >= x | lower) = alpha/2 and P(X <= x | upper) = alpha/2, summed term by term with MathNet's
        // log-gamma (not the app's own, which the interval is computed with).
        foreach (var (n, x) in new[] { (40, 13), (7, 1), (250, 249), (1000, 612) })
            foreach (var alpha in new[] { 0.05, 0.01 })
            {
                var interval = ClopperPearson.Of(x, n, alpha)!;
                double Tail(double p, int from, int to) => Enumerable.Range(from, to - from + 1)
                    .Sum(k => Math.Exp(MathNetSpecial.GammaLn(n + 1) - MathNetSpecial.GammaLn(k + 1) - MathNetSpecial.GammaLn(n - k + 1) + k * Math.Log(p) + (n - k) * Math.Log(1 - p)));
                Assert.Equal(alpha / 2, Tail(interval.Lower, x, n), 1e-10);
                Assert.Equal(alpha / 2, Tail(interval.Upper, 0, x), 1e-10);
            }
    }

    [Fact]
    public void The_log_gamma_it_uses_agrees_with_an_independent_library()
    {
        foreach (var x in new[] { 0.1, 0.5, 1, 2.5, 10, 171.3, 1e4, 5e4 + 1 })
            Assert.Equal(MathNetSpecial.GammaLn(x), Beta.LogGamma(x), 1e-12 * Math.Max(1, Math.Abs(MathNetSpecial.GammaLn(x))));
    }

    [Fact]
    public void No_trials_have_no_interval() => Assert.Null(ClopperPearson.Of(0, 0));
}
