using System.Diagnostics;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>An accuracy with its Clopper-Pearson interval (Lower, Upper); null values when nothing was graded.</summary>
public sealed record Score(double? Value, double? Lower, double? Upper, long Correct, long Total)
{
    public static Score From(Proportion p) => new(p.Value, p.Interval?.Lower, p.Interval?.Upper, p.Correct, p.Total);
}

/// <summary>
/// Multi-label accuracy as the paper counts it (Value: a pending top-1 counts wrong) with its interval (Lower, Upper),
/// over Total = Decided + Pending graded images; DecidedOnly leaves the pending ones out (a variant, never the rank);
/// BoundLower = Value and BoundUpper counts every pending one right. Provisional while anything is pending.
/// </summary>
public sealed record MultiLabelResult(
    double? Value, double? Lower, double? Upper, long Correct, long Total, long Decided, long Pending, double? DecidedOnly,
    double? BoundLower, double? BoundUpper, bool Provisional)
{
    public static MultiLabelResult From(MultiLabelScore s) =>
        new(s.Value, s.Interval?.Lower, s.Interval?.Upper, s.Correct, s.Total, s.Decided, s.Pending, s.DecidedOnly, s.Value, s.Upper, s.Provisional);
}

/// <summary>
/// The board's metric (metric=, average=, unclear=) on one subset (by the image's original class), with its interval.
/// Complete when the entry predicted every graded image of the subset. Every metric of a model on each subset is on
/// its results page (GET /api/models/{slug}/results).
/// </summary>
public sealed record SubsetResult(string Subset, double? Value, double? Lower, double? Upper, bool Complete);

/// <summary>
/// The board's metric on the shifted dataset (same subset, same image-set name), the drop from the original, and the
/// distance above the fit. Complete when the entry predicted every graded image of the shifted scope.
/// </summary>
public sealed record ShiftResult(double? Value, double? Lower, double? Upper, long Pending, double? Drop, double? EffectiveRobustness, bool Complete);

/// <summary>Whether a row's value differs significantly from the next ranked row's (paired, on the same images).</summary>
/// <param name="Method">mcnemar (exact, micro averages) or bootstrap (paired, per-class averages).</param>
public sealed record NextComparison(string Next, string Method, double PValue, bool Significant);

public sealed record LeaderboardRow
{
    /// <summary>The rank by Value among complete entries; null for an entry that did not predict every graded image.</summary>
    public required int? Rank { get; init; }
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
    /// <summary>Graded images of the subset and scope the entry predicted.</summary>
    public required long Predicted { get; init; }
    /// <summary>Graded images of the subset and scope (the same for every entry).</summary>
    public required long Images { get; init; }
    /// <summary>Predicted equals Images: only complete entries are ranked (an incomplete one is graded on what it predicted).</summary>
    public required bool Complete { get; init; }
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
    /// <summary>The 95 % bootstrap interval of the rank (null until the board's statistics are ready, or unranked).</summary>
    public RankInterval? RankInterval { get; init; }
    /// <summary>The test against the next ranked row (null for the last, for unranked rows, or until statistics are ready).</summary>
    public NextComparison? VersusNext { get; init; }
}

/// <summary>
/// Shifted against original accuracy, fitted in a space (logit, probit or linear) over a declared group of entries
/// (model: kind model; non-human: every uploaded entry that is not a human), with a 95 % bootstrap band.
/// </summary>
public sealed record FitResult(string Space, string On, double Slope, double Intercept, double R, int Points, BandPoint[] Band);

/// <summary>The images the board grades: the image set on both datasets, and how many images it leaves to grade.</summary>
public sealed record BoardScope
{
    /// <summary>The image set every entry is graded on, or null for every image.</summary>
    public required string? ImageSet { get; init; }
    /// <summary>True when the image set was chosen by default (the dataset's 'annotated' set).</summary>
    public required bool Default { get; init; }
    /// <summary>Images of the dataset in the scope.</summary>
    public required long Images { get; init; }
    /// <summary>Images of the scope and subset that are graded (problematic ones left out).</summary>
    public required long Graded { get; init; }
    /// <summary>Images of the scope and subset left out as problematic.</summary>
    public required long Problematic { get; init; }
    /// <summary>Whether an image whose original label was decided wrong counts as problematic (a dataset setting).</summary>
    public required bool WrongOriginalIsProblematic { get; init; }
    /// <summary>Images of the dataset problematic only by that setting (null when it is off).</summary>
    public required long? WrongOriginalImages { get; init; }
    /// <summary>Images of the shifted dataset in its scope (null without a shifted dataset or without the set there).</summary>
    public required long? ShiftedImages { get; init; }
    public required string Description { get; init; }
}

/// <summary>Kendall's tau-b between the rankings of the complete entries under each definition.</summary>
public sealed record RankingSensitivity(string[] Rankings, double?[][] Tau, int Entries);

/// <summary>Whether the rank intervals and the tests between adjacent rows are in this answer yet.</summary>
/// <param name="Status">ready, computing (ask again; ?wait=true waits for them), superseded (labels changed first: ask again) or failed (logged; the board stands).</param>
/// <param name="ComputeMs">How long the bootstrap and the tests took, once ready.</param>
public sealed record BoardStatistics(string Status, int Replicates, ulong Seed, string Description, double? ComputeMs = null);

public sealed record LeaderboardResponse
{
    public required string Dataset { get; init; }
    public required string DatasetName { get; init; }
    public required string? ShiftedDataset { get; init; }
    public required string Subset { get; init; }
    public required string[] Subsets { get; init; }
    /// <summary>The image set every entry was graded on on both datasets, or null for all images.</summary>
    public string? ImageSet { get; init; }
    public required BoardScope Scope { get; init; }
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
    /// <summary>Shifted against original values of the fitted group (null without a pair or with fewer than 2 points).</summary>
    public required FitResult? Fit { get; init; }
    public required RankingSensitivity Sensitivity { get; init; }
    public required BoardStatistics Statistics { get; init; }
    public required LeaderboardRow[] Rows { get; init; }
    public required double ComputeMs { get; init; }
}

/// <summary>Turns scored datasets into a board: metrics per entry and subset, the shift pairing and fit, ranks.</summary>
public static class Boards
{
    public static readonly string[] Metrics = ["multilabel", "top1", "top5", "real"];
    public static readonly string[] FitSpaces = ["logit", "probit", "linear"];
    public static readonly string[] FitGroups = ["model", "non-human"];

    public static GradedMetric Graded(string metric) => metric switch
    {
        "top1" => GradedMetric.Top1,
        "top5" => GradedMetric.Top5,
        "real" => GradedMetric.Real,
        _ => GradedMetric.MultiLabel,
    };

    public static FitSpace Space(string fit) => fit switch { "probit" => FitSpace.Probit, "linear" => FitSpace.Linear, _ => FitSpace.Logit };

    /// <summary>The board's metric on a subset: its value, interval and (multi-label only) pending images.</summary>
    public static (double? Value, Interval? Interval, long Pending) Measure(
        string metric, SubsetTotals totals, MultiLabelDefinition definition, double alpha, int k)
    {
        static (double?, Interval?, long) Of(Proportion p) => (p.Value, p.Interval, 0);
        return metric switch
        {
            "top1" => Of(Scoring.Top1(totals, alpha)),
            "top5" => k == 5 ? Of(Scoring.Top5(totals, alpha)) : (null, null, 0),
            "real" => Of(Scoring.Real(totals, alpha)),
            _ => Scoring.MultiLabel(totals, definition, alpha) is var s ? (s.Value, s.Interval, s.Pending) : default,
        };
    }

    /// <summary>Whether the entry predicted every image the metric grades on the subset.</summary>
    public static bool Complete(string metric, SubsetTotals totals) =>
        metric == "real" ? totals.RealImages == totals.RealScope : totals.Complete;

    /// <summary>Whether a group fits the shift line: model (kind model, the usual ImageNet-trained testbed) or non-human.</summary>
    public static bool Fitted(string fitOn, ScoredEntry e) =>
        !e.Computed && (fitOn == "non-human" ? e.Kind != "human" : e.Kind == "model");

    public static string Describe(BoardQuery q) =>
        "Multi-label accuracy (Shankar et al. 2020): the top-1 prediction counts when reviewers marked it correct for the image" +
        (q.Definition.UnclearCountsCorrect ? " ('unclear' counts correct too)" : " (only 'correct' counts; 'unclear' counts wrong)") +
        "; a top-1 that no decided verdict covers yet (pending) counts wrong; problematic images are left out; " +
        (q.Definition.Average == Average.Micro ? "the mean over images" : "the accuracy per original class, averaged over classes") +
        ". Every entry is graded on the same images (the scope); an entry that did not predict all of them is graded on what it " +
        "predicted and not ranked. Decided-only leaves pending images out; the bounds count every pending one wrong or right. " +
        "Top-1/top-5: the original label, on the same images. ReaL: the top-1 in the imported reference set, images with an " +
        $"empty set left out. Intervals: Clopper-Pearson at {(1 - q.Alpha) * 100:0.#} %. Subsets go by the image's original class. " +
        $"Rank intervals: 95 % bootstrap over images ({RankBootstrap.DefaultReplicates} replicates, seeded); adjacent rows are " +
        "compared on the same images (McNemar's exact test, or a paired bootstrap for per-class averages). " +
        $"Fit: least squares in {q.Fit} space over {(q.FitOn == "model" ? "entries of kind model" : "every uploaded entry that is not human")}.";

    public static LeaderboardResponse Build(
        ScoredDataset scored, ScoredDataset? shifted, BoardQuery query, BoardScope scope, Stopwatch watch, RowCache? cache = null)
    {
        var mask = scored.Subset(query.Subset)!.Classes;
        var shiftedMask = shifted?.Subset(query.Subset)?.Classes;
        var alpha = query.Alpha;
        var hasReference = scored.Data.Images.HasReference;
        // The shifted row of each entry by slug (a zoo has 1,500 entries: no scan per row).
        var shiftedBySlug = shifted?.Entries.DistinctBy(s => s.Slug).ToDictionary(s => s.Slug);
        // Rows are independent: build them in parallel, in entry order. A row whose counts did not change since the
        // last board of this query is taken as it was (a verdict changes few entries' counts; the others keep the same
        // objects), and a row built again keeps the parts of its last version that the change left alone.
        var built = scored.Entries.AsParallel().AsOrdered().Select(e =>
        {
            var other = shiftedMask is null ? null : shiftedBySlug?.GetValueOrDefault(e.Slug);
            if (cache?.Get(e, other) is { } known) return known;
            var fresh = BuildRow(scored, e, other, mask, shiftedMask, query, hasReference, cache?.Last(e.Slug));
            cache?.Set(fresh);
            return fresh;
        }).ToList();

        // The fit: the declared group, complete on both datasets, in the chosen space.
        var space = Space(query.Fit);
        var points = built
            .Where((b, i) => Fitted(query.FitOn, scored.Entries[i]) && b.Row.Complete && b.Row.Value is not null
                        && b.Row.Shift is { Complete: true, Value: not null })
            .Select(b => (b.Row.Value!.Value, b.Row.Shift!.Value!.Value)).ToList();
        var fit = ShiftFit.Of(points, space);
        var robustness = built.Select(b => b.Row.Shift is { } s && fit is not null && b.Row.Value is { } x && s.Value is { } y
            ? fit.EffectiveRobustness(x, y)
            : (double?)null).ToArray();

        var rank = 0;
        var ranked = Enumerable.Range(0, built.Count)
            .OrderByDescending(i => built[i].Row.Complete && built[i].Row.Value.HasValue)
            .ThenByDescending(i => built[i].Row.Value ?? double.NegativeInfinity)
            .ThenBy(i => built[i].Row.Slug, StringComparer.Ordinal)
            .Select(i => built[i].Final(built[i].Row.Complete && built[i].Row.Value.HasValue ? ++rank : null, robustness[i]))
            .ToArray();

        return new LeaderboardResponse
        {
            Dataset = scored.Head.Slug,
            DatasetName = scored.Head.Name,
            ShiftedDataset = shifted?.Head.Slug,
            Subset = query.Subset,
            Subsets = scored.Data.Subsets.Select(s => s.Name).ToArray(),
            ImageSet = scope.ImageSet,
            Scope = scope,
            Metric = query.Metric,
            Average = query.Definition.Average == Average.Micro ? "micro" : "per-class",
            Unclear = query.Definition.UnclearCountsCorrect ? "correct" : "wrong",
            Alpha = alpha,
            Definition = Describe(query),
            LabelVersion = scored.Version,
            CurrentLabelVersion = scored.Head.LabelVersion,
            ShiftedLabelVersion = shifted?.Version,
            HasReferenceLabels = hasReference,
            Images = scored.Data.Images.Count,
            Fit = fit is null ? null : new FitResult(query.Fit, query.FitOn, fit.Slope, fit.Intercept, fit.R, fit.Points, ShiftFit.Band(points, space)),
            Sensitivity = Sensitivity(built, hasReference),
            Statistics = new BoardStatistics("computing", RankBootstrap.DefaultReplicates, RankBootstrap.DefaultSeed, StatisticsDescription),
            Rows = ranked,
            ComputeMs = watch.Elapsed.TotalMilliseconds,
        };
    }

    public const string StatisticsDescription =
        "Rank intervals: the 2.5th to 97.5th percentile of each ranked entry's rank over bootstrap resamples of the graded images. " +
        "Versus next: the difference to the next ranked row on the same images (McNemar's exact test for micro averages, the paired " +
        "bootstrap for per-class averages); not significant at 5 % when p ≥ 0.05.";

    /// <summary>The rankings <see cref="Sensitivity"/> compares, by name (ReaL only with reference labels); values only.</summary>
    private static readonly (string Name, Func<SubsetTotals, double?> Value)[] Rankings =
    [
        ("strict, micro", t => Scoring.MultiLabel(t, MultiLabelDefinition.Strict, null).Value),
        ("strict, per-class", t => Scoring.MultiLabel(t, new MultiLabelDefinition(Average.PerClass, false), null).Value),
        ("lenient, micro", t => Scoring.MultiLabel(t, new MultiLabelDefinition(Average.Micro, true), null).Value),
        ("lenient, per-class", t => Scoring.MultiLabel(t, MultiLabelDefinition.Lenient, null).Value),
        ("top-1", t => t.Predicted > 0 ? (double)t.Top1 / t.Predicted : null),
        ("ReaL", t => t.RealImages > 0 ? (double)t.RealTop1 / t.RealImages : null),
    ];

    /// <summary>The rankings of the complete entries under each definition, and Kendall's tau-b between every two.</summary>
    public static RankingSensitivity Sensitivity(IReadOnlyList<BuiltRow> rows, bool hasReference)
    {
        var count = hasReference ? Rankings.Length : Rankings.Length - 1;
        var values = rows
            .Where(r => r.Rankings is not null && r.Rankings.Take(count).All(x => x is not null))
            .Select(r => r.Rankings!)
            .ToList();
        var columns = Enumerable.Range(0, count).Select(a => values.Select(v => v[a]!.Value).ToArray()).ToArray();
        var tau = new double?[count][];
        for (var a = 0; a < count; a++) tau[a] = new double?[count];
        // The 21 pairs (each ranking with itself too) of a zoo's 1,000 values, on every board: spread over the cores.
        var pairs = Enumerable.Range(0, count).SelectMany(a => Enumerable.Range(a, count - a).Select(b => (a, b))).ToArray();
        Parallel.ForEach(pairs, p => tau[p.a][p.b] = tau[p.b][p.a] = PairedTests.KendallTauB(columns[p.a], columns[p.b]));
        return new RankingSensitivity(Rankings.Take(count).Select(d => d.Name).ToArray(), tau, values.Count);
    }

    /// <summary>
    /// One entry's row before ranks and the fit: every metric on the board's subset and on each subset. Parts whose
    /// counts equal those of <paramref name="last"/> (the entry's row in the last board of this query) are its objects:
    /// a verdict moves the multi-label counts of one class, so the top-1, top-5 and ReaL scores and the subsets without
    /// that class stay, with their intervals and their JSON (see BoardJson).
    /// </summary>
    private static BuiltRow BuildRow(ScoredDataset scored, ScoredEntry e, ScoredEntry? other, bool[] mask, bool[]? shiftedMask,
        BoardQuery query, bool hasReference, BuiltRow? last)
    {
        var alpha = query.Alpha;
        // Each subset's sums, kept with the counts (a recount after a verdict derives them, and keeps the same object for
        // a subset it did not change; see ClassCounts.Totals).
        var totals = scored.Data.Subsets.Select(s => e.Counts.Totals(s.Classes)).ToArray();
        var t = e.Counts.Totals(mask);
        var multiLabel = Scoring.MultiLabel(t, query.Definition, alpha);
        var lastRow = last?.Row.K == e.K ? last.Row : null;
        var subsets = scored.Data.Subsets.Select((s, i) =>
        {
            var st = totals[i];
            // The same sums object: made for the same subset's classes from the same counts (see ClassCounts.Totals).
            if (lastRow is not null && i < last!.Subsets.Length && ReferenceEquals(last.Subsets[i], st)) return lastRow.Subsets[i];
            var (value, interval, _) = Measure(query.Metric, st, query.Definition, alpha, e.K);
            return new SubsetResult(s.Name, value, value is null ? null : interval?.Lower, value is null ? null : interval?.Upper,
                Complete(query.Metric, st));
        }).ToArray();
        // The same counts give the same score (alpha is the same within a query's rows).
        static Score Kept(Score? known, long correct, long total, Func<SubsetTotals, double, Proportion> score, SubsetTotals t, double alpha) =>
            known is not null && known.Correct == correct && known.Total == total ? known : Score.From(score(t, alpha));
        var result = MultiLabelResult.From(multiLabel);
        var value = query.Metric == "multilabel" ? multiLabel.Value : Measure(query.Metric, t, query.Definition, alpha, e.K).Value;
        ShiftResult? shift = null;
        if (other is not null && shiftedMask is not null)
        {
            var ot = other.Counts.Totals(shiftedMask);
            var (shiftedValue, interval, pending) = Measure(query.Metric, ot, query.Definition, alpha, other.K);
            shift = new ShiftResult(shiftedValue, shiftedValue is null ? null : interval?.Lower, shiftedValue is null ? null : interval?.Upper, pending,
                value is { } a && shiftedValue is { } b ? a - b : null, null, Complete(query.Metric, ot));
        }
        var row = new LeaderboardRow
        {
            Rank = null,
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
            Predicted = query.Metric == "real" ? t.RealImages : t.Predicted,
            Images = query.Metric == "real" ? t.RealScope : t.Images,
            Complete = Complete(query.Metric, t),
            Value = value,
            Top1 = Kept(lastRow?.Top1, t.Top1, t.Predicted, Scoring.Top1, t, alpha),
            Top5 = e.K == 5 ? Kept(lastRow?.Top5, t.Top5, t.Predicted, Scoring.Top5, t, alpha) : null,
            MultiLabel = result,
            // The board's definition is usually one of these two: the same numbers, one object.
            Strict = query.Definition == MultiLabelDefinition.Strict ? result : MultiLabelResult.From(Scoring.MultiLabel(t, MultiLabelDefinition.Strict, alpha)),
            Lenient = query.Definition == MultiLabelDefinition.Lenient ? result : MultiLabelResult.From(Scoring.MultiLabel(t, MultiLabelDefinition.Lenient, alpha)),
            Real = hasReference ? Kept(lastRow?.Real, t.RealTop1, t.RealImages, Scoring.Real, t, alpha) : null,
            RealTop5 = hasReference && e.K == 5 ? Kept(lastRow?.RealTop5, t.RealTop5, t.RealImages, Scoring.RealTop5, t, alpha) : null,
            Subsets = subsets,
            Shift = shift,
            Provisional = multiLabel.Provisional,
        };
        // The entry's value under each ranking the sensitivity table compares (complete entries only).
        var rankings = t.Complete ? Rankings.Select(r => r.Value(t)).ToArray() : null;
        return new BuiltRow(RowSource.Of(e, other), e.Counts, row, rankings, totals);
    }

    /// <summary>
    /// The statistics that need every image: rank intervals by the bootstrap and the test of each ranked row against
    /// the next, on the board's metric, subset and scope. They do not depend on alpha or the fit, so boards that differ
    /// only in those share them.
    /// </summary>
    /// <param name="cancel">Stops the bootstrap (OperationCanceledException) when a newer board replaced this one.</param>
    public static RowStatistics ComputeStatistics(LeaderboardResponse board, ScoredDataset scored, BoardQuery query, CancellationToken cancel = default)
    {
        var watch = Stopwatch.StartNew();
        var mask = scored.Subset(query.Subset)!.Classes;
        var ranked = board.Rows.Where(r => r.Rank is not null).OrderBy(r => r.Rank).ToList();
        var bySlug = scored.Entries.DistinctBy(e => e.Slug).ToDictionary(e => e.Slug);
        var entries = ranked.Select(r => bySlug[r.Slug].Predictions).ToList();
        var perClass = query.Metric == "multilabel" && query.Definition.Average == Average.PerClass;
        // One core stays with the requests: a board after a verdict must not wait behind the previous board's bootstrap.
        var parallelism = Math.Max(1, Environment.ProcessorCount - 1);
        var matrix = CorrectnessMatrix.Build(scored.Data.Images, scored.Labels, entries, scored.Scope.Mask, mask,
            Graded(query.Metric), query.Definition.UnclearCountsCorrect, aligned: perClass, cancel, parallelism);
        var pairs = Enumerable.Range(0, Math.Max(0, ranked.Count - 1)).Select(k => (k, k + 1)).ToList();
        cancel.ThrowIfCancellationRequested();
        var bootstrap = RankBootstrap.Run(matrix, perClass, pairs, parallelism: parallelism, cancel: cancel);
        var rows = new Dictionary<string, (RankInterval, NextComparison?)>();
        for (var k = 0; k < ranked.Count; k++)
        {
            NextComparison? next = null;
            if (k + 1 < ranked.Count)
            {
                var table = matrix.Pair(k, k + 1);
                var p = perClass ? bootstrap.Differences[k].PValue : PairedTests.McNemarExact(table.OnlyFirst, table.OnlySecond);
                next = new NextComparison(ranked[k + 1].Slug, perClass ? "bootstrap" : "mcnemar", p, p < 0.05);
            }
            rows[ranked[k].Slug] = (bootstrap.Ranks[k], next);
        }
        return new RowStatistics(rows, watch.Elapsed.TotalMilliseconds);
    }

    public static LeaderboardResponse WithStatistics(LeaderboardResponse board, RowStatistics statistics) => board with
    {
        Rows = board.Rows.Select(r => statistics.Rows.TryGetValue(r.Slug, out var s) ? r with { RankInterval = s.Rank, VersusNext = s.Next } : r).ToArray(),
        Statistics = board.Statistics with { Status = "ready", ComputeMs = statistics.ComputeMs },
    };
}

/// <summary>An entry's row as built from its counts (and those of its shifted row), before ranks and the fit.</summary>
/// <param name="Rankings">Its value under each of the sensitivity table's rankings; null when it is not complete.</param>
/// <param name="Source">What the row was built from besides its counts (no predictions: rows outlive replaced uploads).</param>
/// <param name="Subsets">The sums each of its subsets' results was made from, in the dataset's order of subsets.</param>
public sealed record BuiltRow(RowSource Source, ClassCounts Counts, LeaderboardRow Row, double?[]? Rankings, SubsetTotals[] Subsets)
{
    private LeaderboardRow? _final;

    /// <summary>
    /// The row with its rank and distance above the fit: the same object as last time when both are unchanged, so its
    /// JSON is reused too (see LeaderboardService.Serialize).
    /// </summary>
    public LeaderboardRow Final(int? rank, double? robustness)
    {
        var last = _final;
        if (last is not null && last.Rank == rank && last.Shift?.EffectiveRobustness == robustness) return last;
        var row = Row with { Rank = rank, Shift = Row.Shift is { } s ? s with { EffectiveRobustness = robustness } : null };
        _final = row;
        return row;
    }
}

/// <summary>
/// The rows built for one query (subset, metric, definition, alpha), by the counts they were built from: counts are
/// never changed once made (a label change makes new ones only for the entries it touches), so a row found for the
/// same counts, the same shifted counts and the same entry is the row.
/// </summary>
public sealed class RowCache
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<ClassCounts, BuiltRow> _rows = new();
    // The row built last for each entry, whatever its counts: a row built again takes what did not change from it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, BuiltRow> _last = new();

    public BuiltRow? Get(ScoredEntry entry, ScoredEntry? other) =>
        _rows.TryGetValue(entry.Counts, out var row) && row.Source == RowSource.Of(entry, other) ? row : null;

    public BuiltRow? Last(string slug) => _last.GetValueOrDefault(slug);

    public void Set(BuiltRow row)
    {
        _rows.AddOrUpdate(row.Counts, row);
        _last[row.Row.Slug] = row;
    }
}

/// <summary>
/// An entry as far as its row shows it (an edit of a model's metadata moves its UpdatedAt), and the counts of its row
/// on the shifted dataset, compared by reference: counts are never changed once made.
/// </summary>
public sealed record RowSource(string Slug, string DisplayName, string Kind, int K, long? UploadId, DateTimeOffset? UpdatedAt,
    ClassCounts? OtherCounts, int? OtherK)
{
    public static RowSource Of(ScoredEntry e, ScoredEntry? other) =>
        new(e.Slug, e.DisplayName, e.Kind, e.K, e.Entry?.UploadId, e.Entry?.UpdatedAt, other?.Counts, other?.K);
}

/// <summary>Each ranked entry's rank interval and test against the next, by slug.</summary>
public sealed record RowStatistics(IReadOnlyDictionary<string, (RankInterval Rank, NextComparison? Next)> Rows, double ComputeMs);
