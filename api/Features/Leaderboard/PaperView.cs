using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>An entry in the original-vs-shifted figure, with both intervals and its effective robustness.</summary>
public sealed record PaperPoint(
    string Slug, string Name, string Kind, bool Computed, double X, double? XLower, double? XUpper, double Y, double? YLower, double? YUpper,
    double? EffectiveRobustness);

public sealed record PaperFigure(PaperPoint[] Points, FitResult? Fit, string XLabel, string YLabel);

public sealed record Estimate(double? Value, double? Lower, double? Upper);

/// <param name="Role">human, human-majority or best-model (the model with the highest original value on the subset).</param>
public sealed record PaperTableRow(string Subset, string Role, string Slug, string Name, string Kind, Estimate Original, Estimate Shifted, double? Drop);

public sealed record MistakeImage(long ImageId, string OriginalWnid, string OriginalLemma);

/// <summary>The images every human, every model, and both get wrong on one dataset (same scope), by subset.</summary>
public sealed record PaperMistakes(
    string Dataset, int Humans, int Models, long HumansAllWrong, long ModelsAllWrong, long Both, SubsetCount[] BothBySubset, MistakeImage[] BothImages);

/// <param name="SyntheticEntries">Entries in the figure whose predictions are synthetic (tagged so by make demo-zoo).</param>
public sealed record PaperViewResponse(
    string Dataset, string Shifted, string? ImageSet, string Definition, long LabelVersion, long ShiftedLabelVersion,
    BoardScope Scope, PaperFigure Figure, PaperTableRow[] Table, PaperMistakes[] Mistakes, int SyntheticEntries);

/// <summary>
/// The paper's main results for any pair of datasets on one scope (Shankar et al. 2020, Figure 1, Table 2 and the
/// mistake analysis): every entry's original and shifted multi-label accuracy with the fit, each human and the best
/// model per subset with drops and intervals, and the images humans and models all get wrong. Same images throughout.
/// </summary>
public static class PaperView
{
    public static readonly string[] TableSubsets = ["all", "objects", "organisms", "dogs"];

    public static void MapPaperView(this RouteGroupBuilder group) =>
        group.MapGet("/analysis/paper", Get).WithName("GetPaperView")
            .WithSummary("The paper's main results for a dataset pair on one scope: the original-vs-shifted figure with the fit, each human and the best model per subset with drops and intervals, and the mistake analysis.");

    /// <param name="dataset">The original dataset (default: the featured dataset, else the one with the most entries).</param>
    /// <param name="shifted">The shifted dataset (default: the dataset paired with it).</param>
    /// <param name="imageSet">The scope on both datasets, as for the leaderboard (default: 'annotated' when the original has it, else every image).</param>
    /// <param name="average">micro (default) or per-class.</param>
    /// <param name="unclear">wrong (default) or correct.</param>
    /// <param name="fit">logit (default), probit or linear.</param>
    /// <param name="fitOn">model (default) or non-human.</param>
    /// <param name="alpha">1 - confidence level (default 0.05).</param>
    public static async Task<Results<Ok<PaperViewResponse>, ProblemHttpResult>> Get(
        LeaderboardService service, string? dataset = null, string? shifted = null, string? imageSet = null, string? average = null,
        string? unclear = null, string? fit = null, string? fitOn = null, double? alpha = null)
    {
        if (LeaderboardApi.Parse(null, average, unclear, alpha, out _, out var definition, out var level) is { } invalid) return invalid;
        fit ??= "logit";
        fitOn ??= "model";
        if (!Boards.FitSpaces.Contains(fit)) return Problems.Unprocessable("Invalid fit", "fit", "fit: logit, probit or linear.");
        if (!Boards.FitGroups.Contains(fitOn)) return Problems.Unprocessable("Invalid fitOn", "fitOn", "fitOn: model or non-human.");
        var watch = Stopwatch.StartNew();
        await using var connection = await service.Db.OpenConnectionAsync();
        var head = await LeaderboardApi.HeadAsync(connection, service.Store, dataset);
        if (head is null) return Problems.NotFound(dataset is null ? "There is no dataset yet." : $"Dataset '{dataset}' does not exist.");
        var pair = shifted is not null ? await service.Store.HeadAsync(connection, shifted)
            : head.ShiftedBy is { } id ? await service.Store.HeadAsync(connection, id) : null;
        if (pair is null)
            return shifted is null
                ? Problems.Unprocessable("No shifted dataset", "shifted", $"Dataset '{head.Slug}' has no shifted dataset: name one with shifted=.")
                : Problems.NotFound($"Dataset '{shifted}' does not exist.");
        if (pair.LabelSpaceId != head.LabelSpaceId)
            return Problems.Unprocessable("Different label spaces", "shifted", $"'{head.Slug}' and '{pair.Slug}' do not share a label space.");

        var data = await service.Store.DataAsync(connection, head);
        var (scope, isDefault) = await service.ScopeAsync(connection, head, data, imageSet);
        if (scope is null) return Problems.NotFound($"Dataset '{head.Slug}' has no image set '{imageSet}'.");
        var pairData = await service.Store.DataAsync(connection, pair);
        var pairScope = scope.Name is null ? ImageScope.All : await service.Store.ScopeAsync(connection, pair, pairData, scope.Name);
        if (pairScope is null) return Problems.NotFound($"Dataset '{pair.Slug}' has no image set '{scope.Name}': both datasets need the scope.");
        var scored = await service.ScoreAsync(connection, head, await ScoringStore.EntriesAsync(connection, head.Id), head.LabelVersion, scope);
        var scoredPair = await service.ScoreAsync(connection, pair, await ScoringStore.EntriesAsync(connection, pair.Id), pair.LabelVersion, pairScope);

        var boards = TableSubsets.Where(s => scored.Subset(s) is not null && scoredPair.Subset(s) is not null).Select(s =>
        {
            var query = new BoardQuery(s, "multilabel", definition, level, null, scope.Name, fit, fitOn);
            return Boards.Build(scored, scoredPair, query, LeaderboardService.DescribeScope(scored, pair, scoredPair, query, isDefault), watch);
        }).ToList();
        var all = boards[0];

        var plotted = all.Rows.Where(r => r.Complete && r.Value is not null && r.Shift is { Complete: true, Value: not null }).ToList();
        var points = plotted
            .Select(r => new PaperPoint(r.Slug, r.DisplayName, r.Kind, r.Computed, r.Value!.Value, r.MultiLabel.Lower, r.MultiLabel.Upper,
                r.Shift!.Value!.Value, r.Shift.Lower, r.Shift.Upper, r.Shift.EffectiveRobustness))
            .ToArray();
        var figure = new PaperFigure(points, all.Fit, $"{head.Slug} multi-label accuracy", $"{pair.Slug} multi-label accuracy");

        var table = new List<PaperTableRow>();
        foreach (var board in boards)
        {
            var comparable = board.Rows.Where(r => r.Complete && r.Value is not null && r.Shift is { Complete: true, Value: not null }).ToList();
            foreach (var r in comparable.Where(r => r.Kind == "human"))
                table.Add(Row(board.Subset, r.Computed ? "human-majority" : "human", r));
            var best = comparable.Where(r => !r.Computed && r.Kind is "model" or "model-extra-data").MaxBy(r => r.Value);
            if (best is not null) table.Add(Row(board.Subset, "best-model", best));
        }

        var mistakes = new[] { scored, scoredPair }.Select(s =>
        {
            var (models, humans, modelCount, humanCount) = LeaderboardApi.Mistakes(s, definition.UnclearCountsCorrect);
            var images = s.Data.Images;
            var both = Enumerable.Range(0, images.Count).Where(i => models[i] && humans[i]).ToList();
            return new PaperMistakes(s.Head.Slug, humanCount, modelCount, humans.LongCount(h => h), models.LongCount(h => h), both.Count,
                s.Data.Subsets.Where(x => TableSubsets.Contains(x.Name))
                    .Select(x => new SubsetCount(x.Name, both.LongCount(i => x.Classes[images.OriginalClass[i]]))).ToArray(),
                both.Take(48).Select(i => new MistakeImage(s.Data.ImageIds[i], s.Data.Wnids[images.OriginalClass[i]], s.Data.Lemmas[images.OriginalClass[i]])).ToArray());
        }).ToArray();

        return TypedResults.Ok(new PaperViewResponse(head.Slug, pair.Slug, scope.Name, all.Definition, head.LabelVersion, pair.LabelVersion,
            all.Scope, figure, table.ToArray(), mistakes, plotted.Count(r => r.Tags.Contains(Models.ModelTags.Synthetic))));
    }

    private static PaperTableRow Row(string subset, string role, LeaderboardRow r) =>
        new(subset, role, r.Slug, r.DisplayName, r.Kind,
            new Estimate(r.Value, r.MultiLabel.Lower, r.MultiLabel.Upper),
            new Estimate(r.Shift!.Value, r.Shift.Lower, r.Shift.Upper), r.Shift.Drop);
}
