using Relabel.Api.Metrics;
using Xunit;

namespace Relabel.Api.Tests.Metrics;

public sealed class ScoringTests
{
    private const ItemState P = ItemState.Pending, C = ItemState.Correct, W = ItemState.Wrong, U = ItemState.Unclear;

    /// <summary>A hand-built image: original class, problematic, the items (class, state), the top-1 prediction (-1: none).</summary>
    private sealed record Image(short Original, bool Problematic, (short Class, ItemState State)[] Items, short Top1);

    // Three classes: decided correct, wrong and unclear top-1s, a problematic image, a pending item, an item without
    // any state (pending), and an image the entry did not predict.
    private static readonly Image[] Example =
    [
        new(0, false, [(0, C)], 0),
        new(0, false, [(0, C), (1, W)], 1),
        new(0, false, [(0, C), (2, U)], 2),
        new(0, true, [(0, C), (1, C)], 1),
        new(1, false, [(1, C)], 1),
        new(1, false, [(1, P)], 1),
        new(1, false, [(1, C), (0, P)], 0),
        new(2, false, [(2, U)], 2),
        new(2, false, [(2, C), (0, W)], 0),
        new(2, false, [(2, C)], -1),
    ];

    private static readonly bool[] AllClasses = [true, true, true];

    private static (DatasetImages, LabelState, RankedPredictions) Build(Image[] images)
    {
        var data = new DatasetImages(3, images.Select(i => i.Original).ToArray());
        var items = images.SelectMany((image, i) => image.Items.Select(item => (i, item.Class, item.State))).ToArray();
        var labels = LabelState.Build(images.Length, images.Select(i => i.Problematic).ToArray(), items);
        var predictions = RankedPredictions.Empty(images.Length, 1);
        for (var i = 0; i < images.Length; i++) predictions.Set(i, [images[i].Top1]);
        return (data, labels, predictions);
    }

    private static ItemState StateOf(Image image) =>
        image.Items.Where(item => item.Class == image.Top1).Select(item => item.State).DefaultIfEmpty(P).First();

    [Fact]
    public void Strict_micro_accuracy_counts_pending_wrong_and_keeps_the_decided_only_variant_and_bounds()
    {
        var (data, labels, predictions) = Build(Example);
        var score = Scoring.MultiLabel(Scoring.Count(data, labels, predictions), AllClasses, MultiLabelDefinition.Strict, 0.05);

        // Decided: 2 correct, 2 wrong, 2 unclear (wrong here); pending: 2 (counted wrong); the problematic image is left out.
        Assert.Equal(2, score.Correct);
        Assert.Equal(6, score.Decided);
        Assert.Equal(2, score.Pending);
        Assert.Equal(8, score.Total);
        Assert.Equal(2.0 / 8, score.Value!.Value, 1e-12);
        Assert.Equal(2.0 / 6, score.DecidedOnly!.Value, 1e-12);
        Assert.Equal(4.0 / 8, score.Upper!.Value, 1e-12);
        Assert.True(score.Provisional);
        Assert.Equal(ClopperPearson.Of(2, 8), score.Interval);

        // The same by an independent computation over the image list: a pending top-1 is not a correct one.
        var graded = Example.Where(i => !i.Problematic && i.Top1 >= 0).Select(StateOf).ToList();
        Assert.Equal(graded.Count(s => s == C) / (double)graded.Count, score.Value!.Value, 1e-9);
    }

    [Fact]
    public void Lenient_per_class_accuracy_and_bounds_match_the_hand_count()
    {
        var (data, labels, predictions) = Build(Example);
        var score = Scoring.MultiLabel(Scoring.Count(data, labels, predictions), AllClasses, MultiLabelDefinition.Lenient, 0.05);

        // Class 0: 2 of 3 right (correct + unclear); class 1: 1 right, 2 pending of 3; class 2: 1 of 2.
        Assert.Equal((2.0 / 3 + 1.0 / 3 + 0.5) / 3, score.Value!.Value, 1e-12);
        Assert.Equal((2.0 / 3 + 1 + 0.5) / 3, score.DecidedOnly!.Value, 1e-12);
        Assert.Equal((2.0 / 3 + 1 + 0.5) / 3, score.Upper!.Value, 1e-12);
        Assert.Equal(4, score.Correct);
        Assert.Equal(6, score.Decided);

        var byClass = Example.Where(i => !i.Problematic && i.Top1 >= 0)
            .GroupBy(i => i.Original)
            .Select(g => g.Select(StateOf).ToList())
            .Select(states => states.Count(s => s is C or U) / (double)states.Count);
        Assert.Equal(byClass.Average(), score.Value!.Value, 1e-9);
    }

    [Fact]
    public void Micro_with_unclear_correct_and_per_class_with_unclear_wrong_are_the_other_two_definitions()
    {
        var (data, labels, predictions) = Build(Example);
        var counts = Scoring.Count(data, labels, predictions);
        Assert.Equal(4.0 / 8, Scoring.MultiLabel(counts, AllClasses, new MultiLabelDefinition(Average.Micro, true), 0.05).Value!.Value, 1e-12);
        Assert.Equal((1.0 / 3 + 1.0 / 3 + 0) / 3, Scoring.MultiLabel(counts, AllClasses, new MultiLabelDefinition(Average.PerClass, false), 0.05).Value!.Value, 1e-12);
    }

    [Fact]
    public void Top1_grades_the_same_images_as_multilabel_and_subsets_go_by_the_original_class()
    {
        var (data, labels, predictions) = Build(Example);
        var counts = Scoring.Count(data, labels, predictions);
        var top1 = Scoring.Top1(counts, AllClasses, 0.05);
        // The problematic image 3 is left out of top-1 too; image 9 was not predicted.
        Assert.Equal(4, top1.Correct);
        Assert.Equal(8, top1.Total);
        Assert.Equal(9, new SubsetTotals(counts, AllClasses).Images);
        Assert.False(Scoring.Complete(counts, AllClasses));
        Assert.True(Scoring.Complete(counts, [true, true, false]));
        Assert.Null(Scoring.Top5(counts, [false, false, false], 0.05).Value);

        var classTwo = Scoring.MultiLabel(counts, [false, false, true], MultiLabelDefinition.Strict, 0.05);
        Assert.Equal(0, classTwo.Correct);
        Assert.Equal(2, classTwo.Decided);
        Assert.False(classTwo.Provisional);
    }

    [Fact]
    public void A_scope_grades_only_its_images()
    {
        var (data, labels, predictions) = Build(Example);
        // Images 0, 4 and 8: correct, correct, wrong.
        var scope = Enumerable.Range(0, Example.Length).Select(i => i is 0 or 4 or 8).ToArray();
        var counts = Scoring.Count(data, labels, predictions, scope);
        var score = Scoring.MultiLabel(counts, AllClasses, MultiLabelDefinition.Strict, 0.05);
        Assert.Equal((2L, 3L, 0L), (score.Correct, score.Total, score.Pending));
        Assert.True(Scoring.Complete(counts, AllClasses));
        Assert.Equal(2, Scoring.Top1(counts, AllClasses, 0.05).Correct);
    }

    [Fact]
    public void The_wrong_original_rule_makes_images_problematic_whose_original_label_was_decided_wrong()
    {
        // Image 8's original class 2 is correct, but make a variant where it is wrong.
        Image[] images = [new(2, false, [(2, W), (0, C)], 0), new(2, false, [(2, C)], 2)];
        var (data, labels, predictions) = Build(images);
        var ruled = labels.WithWrongOriginalsProblematic(data.OriginalClass, out var affected);
        Assert.Equal(1, affected);
        Assert.Equal([true, false], ruled.Problematic);
        var score = Scoring.MultiLabel(Scoring.Count(data, ruled, predictions), AllClasses, MultiLabelDefinition.Strict, 0.05);
        Assert.Equal((1L, 1L), (score.Correct, score.Total));
    }

    [Fact]
    public void Real_accuracy_leaves_out_images_with_an_empty_reference_set()
    {
        // Images: reference {0,1}, {} (excluded), {2}; predictions ranked.
        var data = new DatasetImages(3, [0, 1, 2], [0, 2, 2, 3], [0, 1, 2]);
        var labels = LabelState.Build(3, new bool[3], []);
        var predictions = RankedPredictions.Empty(3, 3);
        short[][] ranked = [[1, 0], [1, 2], [0, 1, 2]];
        for (var i = 0; i < ranked.Length; i++) predictions.Set(i, ranked[i]);
        var counts = Scoring.Count(data, labels, predictions);
        Assert.Equal(new Proportion(1, 2, 0.5, ClopperPearson.Of(1, 2)), Scoring.Real(counts, AllClasses, 0.05));
        Assert.Equal(2, Scoring.RealTop5(counts, AllClasses, 0.05).Correct);
    }

    [Fact]
    public void Majority_vote_breaks_ties_by_the_more_frequent_class()
    {
        RankedPredictions Of(params short[] top1)
        {
            var p = RankedPredictions.Empty(top1.Length, 1);
            for (var i = 0; i < top1.Length; i++) p.Set(i, [top1[i]]);
            return p;
        }
        // Image 0: 2 votes for class 1. Image 1: one vote each for 0 and 2; class 2 is predicted more often overall.
        // Image 2: nobody predicted it. Image 3: one vote for 0 and one for 1, equally frequent: the smaller index.
        var members = new[] { Of(1, 0, -1, 0), Of(1, 2, -1, 1), Of(0, -1, -1, -1), Of(2, 2, -1, -1) };
        var majority = Scoring.Majority(members, 4, 3);
        Assert.Equal(new short[] { 1, 2, -1, 0 }, Enumerable.Range(0, 4).Select(majority.Top1));
    }

    [Fact]
    public void A_linear_fit_recovers_a_line_and_measures_effective_robustness()
    {
        var fit = ShiftFit.Of([(0.7, 0.55), (0.8, 0.68), (0.9, 0.81)], FitSpace.Linear)!;
        Assert.Equal(1.3, fit.Slope, 1e-12);
        Assert.Equal(-0.36, fit.Intercept, 1e-12);
        Assert.Equal(1, fit.R, 1e-12);
        Assert.Equal(0.05, fit.EffectiveRobustness(0.8, 0.73), 1e-12);
        Assert.Null(ShiftFit.Of([(0.5, 0.4)], FitSpace.Linear));
    }

    [Fact]
    public void Hard_images_are_decided_wrong_for_every_member_that_predicted_them()
    {
        var (_, labels, predictions) = Build(Example);
        var hard = Scoring.AllWrong([predictions], labels, Example.Length, unclearCountsCorrect: false);
        Assert.Equal([1, 2, 7, 8], Enumerable.Range(0, Example.Length).Where(i => hard[i]));
        var scoped = Scoring.AllWrong([predictions], labels, Example.Length, unclearCountsCorrect: false, scope: Example.Select((_, i) => i >= 5).ToArray());
        Assert.Equal([7, 8], Enumerable.Range(0, Example.Length).Where(i => scoped[i]));
    }
}
