using Relabel.Api.Metrics;
using Xunit;

namespace Relabel.Api.Tests.Metrics;

public sealed class PairedTestsTests
{
    [Fact]
    public void McNemars_exact_p_value_is_twice_the_binomial_tail_of_the_smaller_discordant_count()
    {
        // b = 10, c = 3: 2 · (C(13,0) + C(13,1) + C(13,2) + C(13,3)) / 2^13 = 2 · 378 / 8192.
        Assert.Equal(2.0 * 378 / 8192, PairedTests.McNemarExact(10, 3), 1e-12);
        Assert.Equal(2.0 * 378 / 8192, PairedTests.McNemarExact(3, 10), 1e-12);
        // 9 against 0: 2 / 2^9.
        Assert.Equal(2.0 / 512, PairedTests.McNemarExact(0, 9), 1e-12);
        Assert.Equal(1.0, PairedTests.McNemarExact(4, 4));
        Assert.Equal(1.0, PairedTests.McNemarExact(0, 0));
    }

    [Theory]
    // (both right, only first, only second, both wrong) and Newcombe's method 10 interval, computed by hand with Wilson
    // score intervals at z = 1.959964 and φ from the table (see PairedTests.Difference for the formula).
    [InlineData(30, 10, 3, 7, 0.14, 0.002483750439482013, 0.27275933048634415)]
    [InlineData(8, 4, 4, 2, 0.0, -0.2856669381362345, 0.2856669381362345)]
    [InlineData(1, 0, 9, 0, -0.9, -0.9821237869049271, -0.48825773377113846)]
    [InlineData(5, 0, 0, 5, 0.0, 0.0, 0.0)]
    public void The_paired_difference_has_Newcombes_hybrid_score_interval(int a, int b, int c, int d, double delta, double lower, double upper)
    {
        var result = PairedTests.Difference(new PairedTable(a, b, c, d), 0.05);
        Assert.Equal(delta, result.Difference!.Value, 1e-12);
        Assert.Equal(lower, result.Lower!.Value, 1e-9);
        Assert.Equal(upper, result.Upper!.Value, 1e-9);
        Assert.Equal((double)(a + b) / (a + b + c + d), result.First!.Value, 1e-12);
    }

    [Fact]
    public void Kendalls_tau_b_counts_concordant_and_discordant_pairs_with_ties()
    {
        Assert.Equal(1.0, PairedTests.KendallTauB([1, 2, 3, 4], [10, 20, 30, 40])!.Value, 1e-12);
        Assert.Equal(-1.0, PairedTests.KendallTauB([1, 2, 3, 4], [4, 3, 2, 1])!.Value, 1e-12);
        // Pairs: (1,2) C, (1,3) C, (1,4) C, (2,3) D, (2,4) C, (3,4) C: (5 - 1) / 6.
        Assert.Equal(4.0 / 6, PairedTests.KendallTauB([1, 2, 3, 4], [1, 3, 2, 4])!.Value, 1e-12);
        // One tie in x: n0 = 3, ties x = 1, ties y = 0; pairs (1,2) C, (1,3) C, (2,3) tie: 2 / √(2 · 3).
        Assert.Equal(2 / Math.Sqrt(6), PairedTests.KendallTauB([1, 2, 2], [1, 2, 3])!.Value, 1e-12);
        Assert.Null(PairedTests.KendallTauB([1], [1]));
    }

    [Theory]
    [InlineData(2, 5)]
    [InlineData(40, 3)]
    [InlineData(700, 50)]
    [InlineData(1500, 1000)]
    public void Kendalls_tau_b_equals_the_count_over_every_pair(int n, int distinct)
    {
        // Scores drawn from few values make ties in x, in y and in both; the definition counts every pair.
        var random = new Random(n);
        for (var round = 0; round < 5; round++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (double)random.Next(distinct) / distinct).ToArray();
            var y = x.Select(v => random.NextDouble() < 0.7 ? v : (double)random.Next(distinct) / distinct).ToArray();
            long concordant = 0, discordant = 0, tiesX = 0, tiesY = 0, pairs = 0;
            for (var i = 0; i < n; i++)
                for (var j = i + 1; j < n; j++)
                {
                    pairs++;
                    int dx = Math.Sign(x[i] - x[j]), dy = Math.Sign(y[i] - y[j]);
                    if (dx == 0) tiesX++;
                    if (dy == 0) tiesY++;
                    if (dx != 0 && dy != 0) { if (dx == dy) concordant++; else discordant++; }
                }
            var denominator = Math.Sqrt((double)(pairs - tiesX) * (pairs - tiesY));
            double? expected = denominator == 0 ? null : (concordant - discordant) / denominator;
            Assert.Equal(expected, PairedTests.KendallTauB(x, y));
        }
    }
}
