using Relabel.Api.Metrics;
using Xunit;
using MathNetBeta = MathNet.Numerics.Distributions.Beta;

namespace Relabel.Api.Tests.Metrics;

/// <summary>
/// The multi-label score of Scoring.MultiLabel against the definition in its comment, computed here from the per-class
/// counts and with MathNet's Beta quantiles, without any of the app's own arithmetic.
/// </summary>
public sealed class MultiLabelIntervalTests
{
    /// <summary>The Clopper-Pearson interval from MathNet: lower 0 at x = 0, upper 1 at x = n.</summary>
    private static (double Lower, double Upper) Independent(long x, long n, double alpha) =>
        (x == 0 ? 0 : MathNetBeta.InvCDF(x, n - x + 1, alpha / 2), x == n ? 1 : MathNetBeta.InvCDF(x + 1, n - x, 1 - alpha / 2));

    private static (ClassCounts Counts, bool[] Subset) RandomCounts(int seed, int classes)
    {
        var random = new Random(seed);
        var counts = new ClassCounts(classes);
        var subset = new bool[classes];
        for (var c = 0; c < classes; c++)
        {
            subset[c] = random.Next(4) != 0;
            // Some classes have nothing decided, some nothing pending, some nothing at all.
            counts.Correct.Set(c, random.Next(3) == 0 ? 0 : random.Next(60));
            counts.Unclear.Set(c, random.Next(8));
            counts.Wrong.Set(c, random.Next(3) == 0 ? 0 : random.Next(25));
            counts.Pending.Set(c, random.Next(2) == 0 ? 0 : random.Next(15));
        }
        return (counts, subset);
    }

    [Theory]
    [InlineData(1, 0.05, true)]
    [InlineData(2, 0.05, false)]
    [InlineData(3, 0.01, true)]
    [InlineData(4, 0.10, false)]
    public void The_per_class_score_and_its_interval_follow_the_definition(int seed, double alpha, bool unclearCountsCorrect)
    {
        var (counts, subset) = RandomCounts(seed, 40);
        var definition = new MultiLabelDefinition(Average.PerClass, unclearCountsCorrect);
        var score = Scoring.MultiLabel(counts, subset, definition, alpha);

        var classes = Enumerable.Range(0, subset.Length).Where(c => subset[c]).Select(c =>
        (
            Right: (long)counts.Correct[c] + (unclearCountsCorrect ? counts.Unclear[c] : 0),
            Decided: (long)counts.Correct[c] + counts.Unclear[c] + counts.Wrong[c],
            Pending: (long)counts.Pending[c]
        )).ToList();
        var total = classes.Sum(c => c.Decided + c.Pending);
        var graded = classes.Where(c => c.Decided + c.Pending > 0).ToList();
        // The headline counts a pending top-1 wrong: per class right / (decided + pending).
        var value = graded.Average(c => (double)c.Right / (c.Decided + c.Pending));

        Assert.Equal(value, score.Value!.Value, 1e-12);
        Assert.Equal(classes.Where(c => c.Decided > 0).Average(c => (double)c.Right / c.Decided), score.DecidedOnly!.Value, 1e-12);
        Assert.Equal(graded.Average(c => (double)(c.Right + c.Pending) / (c.Decided + c.Pending)), score.Upper!.Value, 1e-12);
        Assert.Equal(classes.Sum(c => c.Right), score.Correct);
        Assert.Equal(classes.Sum(c => c.Decided), score.Decided);
        Assert.Equal(classes.Sum(c => c.Pending), score.Pending);
        Assert.Equal(total, score.Total);
        // The approximation: the per-class mean taken as a proportion of all graded images.
        var (lower, upper) = Independent((long)Math.Round(value * total), total, alpha);
        Assert.Equal(lower, score.Interval!.Lower, 1e-9);
        Assert.Equal(upper, score.Interval.Upper, 1e-9);
        Assert.InRange(value, score.Interval.Lower, score.Interval.Upper);
    }

    [Theory]
    [InlineData(5, 0.05, false)]
    [InlineData(6, 0.01, true)]
    public void The_micro_score_is_a_binomial_proportion_with_its_exact_interval(int seed, double alpha, bool unclearCountsCorrect)
    {
        var (counts, subset) = RandomCounts(seed, 30);
        var score = Scoring.MultiLabel(counts, subset, new MultiLabelDefinition(Average.Micro, unclearCountsCorrect), alpha);
        long right = 0, decided = 0, pending = 0;
        for (var c = 0; c < subset.Length; c++)
        {
            if (!subset[c]) continue;
            right += counts.Correct[c] + (unclearCountsCorrect ? counts.Unclear[c] : 0);
            decided += counts.Correct[c] + counts.Unclear[c] + counts.Wrong[c];
            pending += counts.Pending[c];
        }
        Assert.Equal((double)right / (decided + pending), score.Value!.Value, 1e-12);
        Assert.Equal((double)right / decided, score.DecidedOnly!.Value, 1e-12);
        Assert.Equal((double)(right + pending) / (decided + pending), score.Upper!.Value, 1e-12);
        var (lower, upper) = Independent(right, decided + pending, alpha);
        Assert.Equal(lower, score.Interval!.Lower, 1e-9);
        Assert.Equal(upper, score.Interval.Upper, 1e-9);
    }

    [Fact]
    public void A_subset_with_nothing_decided_scores_zero_with_only_the_decided_variant_missing()
    {
        var counts = new ClassCounts(3);
        counts.Pending.Set(1, 4);
        var score = Scoring.MultiLabel(counts, [true, true, false], MultiLabelDefinition.Lenient, 0.05);
        Assert.Equal(0.0, score.Value);
        Assert.Null(score.DecidedOnly);
        Assert.Equal(0.0, score.Interval!.Lower);
        Assert.Equal(MathNetBeta.InvCDF(1, 4, 0.975), score.Interval.Upper, 1e-9);
        Assert.Equal(1.0, score.Upper);
        var empty = Scoring.MultiLabel(new ClassCounts(3), [true, true, true], MultiLabelDefinition.Strict, 0.05);
        Assert.Null(empty.Value);
        Assert.Null(empty.Interval);
    }
}
