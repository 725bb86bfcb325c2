using System.Diagnostics;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>An accuracy with its Clopper-Pearson interval (Lower, Upper); null values when nothing was graded.</summary>
public sealed record Score(double? Value, double? Lower, double? Upper, long Correct, long Total)
{
    public static Score From(Proportion p) => new(p.Value, p.Interval?.Lower, p.Interval?.Upper, p.Correct, p.Total);
}

/// <summary>
/// Multi-label accuracy over decided images with its interval (Lower, Upper), the pending top-1 predictions, and the
/// bounds with every pending one counted wrong (BoundLower) or right (BoundUpper). Provisional when anything is pending.
/// </summary>
public sealed record MultiLabelResult(
    double? Value, double? Lower, double? Upper, long Correct, long Decided, long Pending, double? BoundLower, double? BoundUpper, bool Provisional)
{
    public static MultiLabelResult From(MultiLabelScore s) =>
        new(s.Value, s.Interval?.Lower, s.Interval?.Upper, s.Correct, s.Decided, s.Pending, s.Lower, s.Upper, s.Provisional);
}

/// <summary>The board's metric on one subset (by the image's original class).</summary>
public sealed record SubsetResult(string Subset, Score Top1, Score? Top5, MultiLabelResult MultiLabel, Score? Real, double? Value);

/// <summary>The board's metric on the shifted dataset, the drop from the original, and the distance above the fit.</summary>
public sealed record ShiftResult(double? Value, double? Lower, double? Upper, long Pending, double? Drop, double? EffectiveRobustness);

public sealed record LeaderboardRow
{
    public required int Rank { get; init; }
    public required string Slug { get; init; }
    public required string DisplayName { get; init; }
    /// <summary>model, model-extra-data, human or ensemble.</summary>
    public required string Kind { get; init; }
    /// <summary>True for the majority-vote ensembles computed from the entries.</summary>
    public required bool Computed { get; init; }
    public required string? PaperUrl { get; init; }
    public required string? CodeUrl { get; init; }
    public required long? ParameterCount { get; init; }
    public required string TrainingData { get; init; }
    public required string[] Tags { get; init; }
    public required int K { get; init; }
    /// <summary>Images of the subset the entry predicted.</summary>
    public required long Predicted { get; init; }
    /// <summary>The board's metric (metric=, average=, unclear=) on the board's subset: what the rank orders by.</summary>
    public required double? Value { get; init; }
    public required Score Top1 { get; init; }
    public required Score? Top5 { get; init; }
    /// <summary>Multi-label accuracy by the board's definition (average=, unclear=).</summary>
    public required MultiLabelResult MultiLabel { get; init; }
    /// <summary>Strict: only 'correct' counts, mean over images.</summary>
    public required MultiLabelResult Strict { get; init; }
    /// <summary>Lenient: 'correct' or 'unclear' counts, mean over original classes.</summary>
    public required MultiLabelResult Lenient { get; init; }
    public required Score? Real { get; init; }
    public required Score? RealTop5 { get; init; }
    public required SubsetResult[] Subsets { get; init; }
    public required ShiftResult? Shift { get; init; }
    public required bool Provisional { get; init; }
}

public sealed record FitResult(double Slope, double Intercept, double R, int Points);

public sealed record LeaderboardResponse
{
    public required string Dataset { get; init; }
    public required string DatasetName { get; init; }
    public required string? ShiftedDataset { get; init; }
    public required string Subset { get; init; }
    public required string[] Subsets { get; init; }
    /// <summary>The image set every entry was restricted to (e.g. humans-labeled, humans-fast), or null for all images.</summary>
    public string? ImageSet { get; init; }
    /// <summary>top1, top5, multilabel or real.</summary>
    public required string Metric { get; init; }
    public required string Average { get; init; }
    public required string Unclear { get; init; }
    public required double Alpha { get; init; }
    /// <summary>How the numbers are computed, in words.</summary>
    public required string Definition { get; init; }
    public required long LabelVersion { get; init; }
    public required long CurrentLabelVersion { get; init; }
    public required long? ShiftedLabelVersion { get; init; }
    public required bool HasReferenceLabels { get; init; }
    public required long Images { get; init; }
    /// <summary>Shifted against original accuracy across entries of kind 'model' (null without a pair or with fewer than 2).</summary>
    public required FitResult? Fit { get; init; }
    public required LeaderboardRow[] Rows { get; init; }
    public required double ComputeMs { get; init; }
}

/// <summary>Turns scored datasets into a board: metrics per entry and subset, the shift pairing and fit, ranks.</summary>
public static class Boards
{
    public static readonly string[] Metrics = ["multilabel", "top1", "top5", "real"];

    public static double? Value(string metric, ClassCounts counts, bool[] subset, MultiLabelDefinition definition, double alpha, int k) => metric switch
    {
        "top1" => Scoring.Top1(counts, subset, alpha).Value,
        "top5" => k == 5 ? Scoring.Top5(counts, subset, alpha).Value : null,
        "real" => Scoring.Real(counts, subset, alpha).Value,
        _ => Scoring.MultiLabel(counts, subset, definition, alpha).Value,
    };

    public static string Describe(BoardQuery q) =>
        $"Multi-label accuracy: the top-1 prediction counts when reviewers marked it correct for the image" +
        (q.Definition.UnclearCountsCorrect ? " ('unclear' counts correct too)" : " (only 'correct' counts; 'unclear' counts wrong)") +
        "; problematic images are left out; " +
        (q.Definition.Average == Average.Micro ? "the mean over images" : "the accuracy per original class, averaged over classes") +
        ". Pending: top-1 predictions no decided verdict covers yet; the value is over decided images, the bounds count every " +
        "pending one wrong or right. Top-1/top-5: the original label. ReaL: the top-1 in the imported reference set, images with an " +
        $"empty set left out. Intervals: Clopper-Pearson at {(1 - q.Alpha) * 100:0.#} %. Subsets go by the image's original class.";

    public static LeaderboardResponse Build(ScoredDataset scored, ScoredDataset? shifted, BoardQuery query, Stopwatch watch)
    {
        var mask = scored.Subset(query.Subset)!.Classes;
        var shiftedMask = shifted?.Subset(query.Subset)?.Classes;
        var alpha = query.Alpha;
        var rows = new List<LeaderboardRow>();
        // Rows are independent (the intervals dominate the cost): build them in parallel, in entry order.
        var pairs = scored.Entries.AsParallel().AsOrdered().Select(e =>
        {
            var c = e.Counts;
            var multiLabel = Scoring.MultiLabel(c, mask, query.Definition, alpha);
            var value = Value(query.Metric, c, mask, query.Definition, alpha, e.K);
            var subsets = scored.Data.Subsets.Select(s =>
            {
                var top1 = Score.From(Scoring.Top1(c, s.Classes, alpha));
                var top5 = e.K == 5 ? Score.From(Scoring.Top5(c, s.Classes, alpha)) : null;
                var ml = MultiLabelResult.From(Scoring.MultiLabel(c, s.Classes, query.Definition, alpha));
                var real = scored.Data.Images.HasReference ? Score.From(Scoring.Real(c, s.Classes, alpha)) : null;
                var chosen = query.Metric switch { "top1" => top1.Value, "top5" => top5?.Value, "real" => real?.Value, _ => ml.Value };
                return new SubsetResult(s.Name, top1, top5, ml, real, chosen);
            }).ToArray();
            var row = new LeaderboardRow
            {
                Rank = 0,
                Slug = e.Slug,
                DisplayName = e.DisplayName,
                Kind = e.Kind,
                Computed = e.Computed,
                PaperUrl = e.Entry?.PaperUrl,
                CodeUrl = e.Entry?.CodeUrl,
                ParameterCount = e.Entry?.ParameterCount,
                TrainingData = e.Entry?.TrainingData ?? "",
                Tags = e.Entry?.Tags ?? [],
                K = e.K,
                Predicted = Scoring.Sum(c.Predicted, mask),
                Value = value,
                Top1 = Score.From(Scoring.Top1(c, mask, alpha)),
                Top5 = e.K == 5 ? Score.From(Scoring.Top5(c, mask, alpha)) : null,
                MultiLabel = MultiLabelResult.From(multiLabel),
                Strict = MultiLabelResult.From(Scoring.MultiLabel(c, mask, MultiLabelDefinition.Strict, alpha)),
                Lenient = MultiLabelResult.From(Scoring.MultiLabel(c, mask, MultiLabelDefinition.Lenient, alpha)),
                Real = scored.Data.Images.HasReference ? Score.From(Scoring.Real(c, mask, alpha)) : null,
                RealTop5 = scored.Data.Images.HasReference && e.K == 5 ? Score.From(Scoring.RealTop5(c, mask, alpha)) : null,
                Subsets = subsets,
                Shift = null,
                Provisional = multiLabel.Provisional,
            };
            var other = shifted?.Entries.FirstOrDefault(s => s.Slug == e.Slug);
            var shiftedValue = other is null || shiftedMask is null
                ? null : Value(query.Metric, other.Counts, shiftedMask, query.Definition, alpha, other.K);
            return (Row: row, Shifted: shiftedValue, Other: other);
        }).ToList();

        var fit = LinearFit.Of(pairs
            .Where(p => p.Row.Kind == "model" && p.Row.Value is not null && p.Shifted is not null)
            .Select(p => (p.Row.Value!.Value, p.Shifted!.Value)).ToList());
        foreach (var (row, shiftedValue, other) in pairs)
        {
            var shift = row;
            if (other is not null && shiftedMask is not null)
            {
                Interval? interval = null;
                long pending = 0;
                if (query.Metric == "multilabel")
                {
                    var s = Scoring.MultiLabel(other.Counts, shiftedMask, query.Definition, alpha);
                    interval = s.Interval; pending = s.Pending;
                }
                else
                {
                    var p = query.Metric switch
                    {
                        "top1" => Scoring.Top1(other.Counts, shiftedMask, alpha),
                        "top5" => Scoring.Top5(other.Counts, shiftedMask, alpha),
                        _ => Scoring.Real(other.Counts, shiftedMask, alpha),
                    };
                    interval = p.Interval;
                }
                shift = row with
                {
                    Shift = new ShiftResult(shiftedValue, shiftedValue is null ? null : interval?.Lower, shiftedValue is null ? null : interval?.Upper, pending,
                        row.Value is { } a && shiftedValue is { } b ? a - b : null,
                        fit is not null && row.Value is { } x && shiftedValue is { } y ? fit.EffectiveRobustness(x, y) : null),
                };
            }
            rows.Add(shift);
        }

        var ranked = rows
            .OrderByDescending(r => r.Value.HasValue)
            .ThenByDescending(r => r.Value ?? 0)
            .ThenBy(r => r.Slug, StringComparer.Ordinal)
            .Select((r, i) => r with { Rank = i + 1 })
            .ToArray();

        return new LeaderboardResponse
        {
            Dataset = scored.Head.Slug,
            DatasetName = scored.Head.Name,
            ShiftedDataset = shifted?.Head.Slug,
            Subset = query.Subset,
            Subsets = scored.Data.Subsets.Select(s => s.Name).ToArray(),
            ImageSet = query.ImageSet,
            Metric = query.Metric,
            Average = query.Definition.Average == Average.Micro ? "micro" : "per-class",
            Unclear = query.Definition.UnclearCountsCorrect ? "correct" : "wrong",
            Alpha = alpha,
            Definition = Describe(query),
            LabelVersion = scored.Version,
            CurrentLabelVersion = scored.Head.LabelVersion,
            ShiftedLabelVersion = shifted?.Version,
            HasReferenceLabels = scored.Data.Images.HasReference,
            Images = scored.Data.Images.Count,
            Fit = fit is null ? null : new FitResult(fit.Slope, fit.Intercept, fit.R, fit.Points),
            Rows = ranked,
            ComputeMs = watch.Elapsed.TotalMilliseconds,
        };
    }
}
