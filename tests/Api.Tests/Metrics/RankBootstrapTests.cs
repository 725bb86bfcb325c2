using Relabel.Api.Metrics;
using Xunit;

namespace Relabel.Api.Tests.Metrics;

public sealed class RankBootstrapTests
{
    /// <summary>Entries over n images of c classes (image i in class i % c), right where the function says.</summary>
    private static CorrectnessMatrix Matrix(int n, int classes, bool aligned, params Func<int, bool>[] entries)
    {
        var images = new DatasetImages(classes, Enumerable.Range(0, n).Select(i => (short)(i % classes)).ToArray());
        var items = new List<(int, short, ItemState)>();
        var predictions = entries.Select((right, e) =>
        {
            var p = RankedPredictions.Empty(n, 1);
            for (var i = 0; i < n; i++)
            {
                // Each entry predicts a class of its own; the item says whether it is right.
                var cls = (short)((i % classes + 1 + e) % classes);
                p.Set(i, [cls]);
                items.Add((i, cls, right(i) ? ItemState.Correct : ItemState.Wrong));
            }
            return p;
        }).ToList();
        var labels = LabelState.Build(n, new bool[n], items.ToArray());
        return CorrectnessMatrix.Build(images, labels, predictions, null, Enumerable.Repeat(true, classes).ToArray(),
            GradedMetric.MultiLabel, false, aligned);
    }

    [Fact]
    public void An_entry_right_wherever_another_is_and_more_always_ranks_first()
    {
        var matrix = Matrix(2000, 10, false, i => i % 2 == 0, i => i % 4 == 0, _ => false);
        var result = RankBootstrap.Run(matrix, false, [(0, 1), (1, 2)]);
        Assert.Equal(new RankInterval(1, 1), result.Ranks[0]);
        Assert.Equal(new RankInterval(2, 2), result.Ranks[1]);
        Assert.Equal(new RankInterval(3, 3), result.Ranks[2]);
        Assert.True(result.Differences[0].PValue < 0.01);
    }

    [Fact]
    public void A_cancelled_bootstrap_stops_instead_of_finishing()
    {
        // A server cancels the bootstrap of a board that a newer one replaced.
        var matrix = Matrix(2000, 4, false, i => i % 2 == 0, i => i % 3 == 0);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => RankBootstrap.Run(matrix, false, [(0, 1)], cancel: cancel.Token));
        Assert.Equal(1000, RankBootstrap.Run(matrix, false, [(0, 1)], cancel: CancellationToken.None).Replicates);
    }

    [Fact]
    public void Entries_one_image_apart_share_their_rank_interval()
    {
        // The first is right on images 0 and 1 where the second is not, the second on image 3: 5,001 against 5,000.
        var matrix = Matrix(10_000, 10, false, i => i % 2 == 0 || i == 1, i => (i % 2 == 0 && i != 0) || i == 3);
        var result = RankBootstrap.Run(matrix, false, [(0, 1)]);
        Assert.Equal(new RankInterval(1, 2), result.Ranks[0]);
        Assert.Equal(new RankInterval(1, 2), result.Ranks[1]);
        Assert.True(result.Differences[0].PValue > 0.05);
    }

    [Fact]
    public void The_bootstrap_spread_of_an_accuracy_matches_the_binomial_standard_error()
    {
        // The difference to an entry that is always wrong is the accuracy itself: its 95 % interval should be close to
        // p ± 1.96 √(p (1 - p) / n), an independent check of the weighted counting.
        const int n = 20_000;
        var matrix = Matrix(n, 20, false, i => i % 10 < 7, _ => false);
        var d = RankBootstrap.Run(matrix, false, [(0, 1)]).Differences[0];
        var half = 1.959964 * Math.Sqrt(0.7 * 0.3 / n);
        Assert.Equal(0.7 - half, d.Lower, 0.0015);
        Assert.Equal(0.7 + half, d.Upper, 0.0015);
        Assert.Equal(2 * half, d.Upper - d.Lower, 2 * half * 0.15);
    }

    [Fact]
    public void A_per_class_bootstrap_needs_an_aligned_layout_and_averages_classes()
    {
        Assert.Throws<ArgumentException>(() => RankBootstrap.Run(Matrix(100, 3, false, _ => true), true, []));
        // Class 0 always right, class 1 never: the per-class mean stays near 0.5 whatever the draw.
        var matrix = Matrix(4000, 2, true, i => i % 2 == 0, _ => false);
        var d = RankBootstrap.Run(matrix, true, [(0, 1)]).Differences[0];
        Assert.Equal(0.5, d.Lower, 1e-12);
        Assert.Equal(0.5, d.Upper, 1e-12);
    }

    [Fact]
    public void The_same_seed_gives_the_same_intervals()
    {
        var matrix = Matrix(5000, 10, false, i => i % 3 != 0, i => i % 3 != 1, i => i % 5 != 0);
        var a = RankBootstrap.Run(matrix, false, [(0, 1), (1, 2)]);
        var b = RankBootstrap.Run(matrix, false, [(0, 1), (1, 2)]);
        Assert.Equal(a.Ranks, b.Ranks);
        Assert.Equal(a.Differences, b.Differences);
    }
}
