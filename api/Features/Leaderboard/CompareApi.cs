using Microsoft.AspNetCore.Http.HttpResults;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>
/// Two entries on one metric, paired on the graded images both predicted: the table, each accuracy, the difference
/// (first minus second) with Newcombe's 95 % interval for paired data, and McNemar's exact p-value.
/// </summary>
public sealed record MetricComparison(
    string Metric, long Images, long BothRight, long OnlyA, long OnlyB, long BothWrong,
    double? AccuracyA, double? AccuracyB, double? Difference, double? Lower, double? Upper, double PValue, bool Significant);

public sealed record CompareResponse(
    string Dataset, ModelRef A, ModelRef B, string Subset, string? ImageSet, string Unclear, long LabelVersion, double Alpha,
    MetricComparison[] Comparisons, string Description);

/// <summary>GET /api/compare: is the difference between two entries real?</summary>
public static class CompareApi
{
    public static void MapCompare(this RouteGroupBuilder group) =>
        group.MapGet("/compare", Compare).WithName("CompareEntries")
            .WithSummary("Two entries on the same images: the paired table (both right, only a, only b, both wrong), McNemar's exact p-value and the difference with a 95 % interval, for top-1, top-5, multi-label and ReaL.");

    /// <param name="dataset">Dataset slug (default: the featured dataset, else the one with the most entries).</param>
    /// <param name="a">The first entry's slug.</param>
    /// <param name="b">The second entry's slug.</param>
    /// <param name="metric">multilabel, top1, top5 or real (default: every metric both entries have).</param>
    /// <param name="subset">A subset of the label space (default all).</param>
    /// <param name="imageSet">The scope, as for the leaderboard (default: the dataset's 'annotated' set, else every image; 'all').</param>
    /// <param name="unclear">How 'unclear' counts in multi-label accuracy: wrong (default) or correct.</param>
    /// <param name="alpha">1 - confidence level of the interval (default 0.05).</param>
    public static async Task<Results<Ok<CompareResponse>, ProblemHttpResult>> Compare(
        LeaderboardService service, string a, string b, string? dataset = null, string? metric = null, string? subset = null,
        string? imageSet = null, string? unclear = null, double? alpha = null)
    {
        if (LeaderboardApi.Parse(metric, null, unclear, alpha, out var m, out var definition, out var level) is { } invalid) return invalid;
        if (a == b) return Problems.Unprocessable("Invalid comparison", "b", "b: a different entry from a.");
        await using var connection = await service.Db.OpenConnectionAsync();
        var head = await LeaderboardApi.HeadAsync(connection, service.Store, dataset);
        if (head is null) return Problems.NotFound(dataset is null ? "There is no dataset yet." : $"Dataset '{dataset}' does not exist.");
        var data = await service.Store.DataAsync(connection, head);
        var subsetName = subset ?? "all";
        var mask = data.Subsets.FirstOrDefault(s => s.Name == subsetName)?.Classes;
        if (mask is null) return Problems.NotFound($"Dataset '{head.Slug}' has no subset '{subsetName}'.");
        var (scope, missing) = await LeaderboardApi.ScopeAsync(connection, service, head, data, imageSet);
        if (missing is not null) return missing;
        var scored = await service.ScoreAsync(connection, head, await ScoringStore.EntriesAsync(connection, head.Id), head.LabelVersion, scope!);
        var first = scored.Entries.FirstOrDefault(e => e.Slug == a);
        var second = scored.Entries.FirstOrDefault(e => e.Slug == b);
        if (first is null) return Problems.NotFound($"Entry '{a}' has no predictions on dataset '{head.Slug}'.");
        if (second is null) return Problems.NotFound($"Entry '{b}' has no predictions on dataset '{head.Slug}'.");

        string[] metrics = metric is not null ? [m]
            : Boards.Metrics.Where(x => (x != "top5" || (first.K == 5 && second.K == 5)) && (x != "real" || data.Images.HasReference)).ToArray();
        if (m == "top5" && metric is not null && (first.K != 5 || second.K != 5))
            return Problems.Unprocessable("Invalid metric", "metric", "metric: top5 needs five labels per image from both entries.");
        if (m == "real" && metric is not null && !data.Images.HasReference)
            return Problems.Unprocessable("Invalid metric", "metric", $"metric: real needs reference labels on '{head.Slug}'.");
        var comparisons = metrics.Select(x =>
        {
            var matrix = CorrectnessMatrix.Build(data.Images, scored.Labels, [first.Predictions, second.Predictions], scope!.Mask, mask,
                Boards.Graded(x), definition.UnclearCountsCorrect, aligned: false);
            var table = matrix.Pair(0, 1);
            var d = PairedTests.Difference(table, level);
            return new MetricComparison(x, table.Images, table.BothRight, table.OnlyFirst, table.OnlySecond, table.BothWrong,
                d.First, d.Second, d.Difference, d.Lower, d.Upper, d.PValue, d.PValue < level);
        }).ToArray();
        return TypedResults.Ok(new CompareResponse(head.Slug,
            new ModelRef(first.Slug, first.DisplayName, first.Kind, first.Computed), new ModelRef(second.Slug, second.DisplayName, second.Kind, second.Computed),
            subsetName, scope!.Name, definition.UnclearCountsCorrect ? "correct" : "wrong", head.LabelVersion, level, comparisons,
            "Paired on the graded images of the scope and subset that both entries predicted (problematic images left out; for ReaL, " +
            "the images with a reference set). Multi-label: right when the top-1 is decided correct (pending counts wrong). " +
            $"Difference: a minus b with Newcombe's hybrid score interval for paired proportions at {(1 - level) * 100:0.#} %; " +
            $"p: McNemar's exact test; significant when p < {level}."));
    }
}
