using System.Globalization;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

public sealed record ModelRef(string Slug, string DisplayName, string Kind, bool Computed);

public sealed record ModelSubsetResult(string Subset, Score Top1, Score? Top5, MultiLabelResult Strict, MultiLabelResult Lenient, Score? Real, bool Complete);

public sealed record ClassResult(int Index, string Wnid, string Lemma, long Images, double? Top1, double? Strict, double? Lenient, long Decided, long Pending);

public sealed record WrongImage(long ImageId, string OriginalWnid, string OriginalLemma, string PredictedWnid, string PredictedLemma, string State);

/// <param name="ImageSet">The scope every number is computed on (null: every image).</param>
public sealed record ModelResultsResponse(
    ModelRef Model, string Dataset, long LabelVersion, double Alpha, string? ImageSet, ModelSubsetResult[] Subsets, ClassResult[] Classes,
    long WrongCount, WrongImage[] WrongImages);

public sealed record ImagePrediction
{
    public required string Model { get; init; }
    public required string DisplayName { get; init; }
    public required string Kind { get; init; }
    /// <summary>The ranked labels as wnids, best first.</summary>
    public required string[] Labels { get; init; }
    public required string Top1Wnid { get; init; }
    public required string Top1Lemma { get; init; }
    /// <summary>The state of the (image, top-1) review item: pending, correct, wrong, unclear or conflict.</summary>
    public required string State { get; init; }
    public required bool Top1MatchesOriginal { get; init; }
    /// <summary>Whether it counts as correct under the strict definition; null while pending or when the image is problematic.</summary>
    public required bool? Strict { get; init; }
    /// <summary>Whether it counts as correct under the lenient definition ('unclear' counts); null as for Strict.</summary>
    public required bool? Lenient { get; init; }
}

public sealed record ImagePredictionsResponse(
    long ImageId, string Dataset, string OriginalWnid, string OriginalLemma, bool Problematic, long LabelVersion, ImagePrediction[] Predictions);

/// <summary>A top-1 answer to an image and how many models and humans gave it.</summary>
public sealed record TopAnswer(string Wnid, string Lemma, int Models, int Humans);

/// <param name="Said">The most frequent top-1 answers of the models and humans (at most three), most frequent first.</param>
public sealed record HardImage(long ImageId, string OriginalWnid, string OriginalLemma, bool HasFile, TopAnswer[] Said);

public sealed record SubsetCount(string Subset, long Count);

public sealed record HardImageGroup(string Group, int Entries, long Count, SubsetCount[] BySubset, HardImage[] Images);

public sealed record HardImagesResponse(string Dataset, string By, long LabelVersion, string Unclear, string? ImageSet, HardImageGroup Hard, HardImageGroup Both);

public static class LeaderboardApi
{
    public static void MapLeaderboard(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api").WithTags("Leaderboard").WithValidation().AfterPredictionFollowups();
        group.MapGet("/leaderboard", Get).WithName("GetLeaderboard").Produces<LeaderboardResponse>(200, "application/json")
            .WithSummary("One row per model, human and ensemble with every metric, interval, coverage and bound, rank intervals and tests between rows; JSON, or CSV with Accept: text/csv or format=csv.");
        group.MapGet("/models/{slug}/results", ModelResults).WithName("GetModelResults")
            .WithSummary("A model's accuracies per subset and per class on a scope, and the images it gets wrong.");
        group.MapGet("/images/{id:long}/predictions", ImagePredictions).WithName("GetImagePredictions")
            .WithSummary("What every entry predicts for an image and whether it counts as correct.");
        group.MapGet("/analysis/hard-images", HardImages).WithName("GetHardImages")
            .WithSummary("Images every model (or every human) gets wrong on a scope, with counts by subset, and the images wrong for all of both.");
        group.MapCompare();
        group.MapPaperView();
        group.MapStatistics();
        routes.MapReferenceLabels();
    }

    internal static ProblemHttpResult? Parse(string? metric, string? average, string? unclear, double? alpha, out string m, out MultiLabelDefinition definition, out double a)
    {
        m = metric ?? "multilabel";
        a = alpha ?? ClopperPearson.DefaultAlpha;
        definition = MultiLabelDefinition.Strict;
        if (!Boards.Metrics.Contains(m)) return Problems.Unprocessable("Invalid metric", "metric", "metric: multilabel, top1, top5 or real.");
        if (average is not (null or "micro" or "per-class")) return Problems.Unprocessable("Invalid average", "average", "average: micro or per-class.");
        if (unclear is not (null or "wrong" or "correct")) return Problems.Unprocessable("Invalid unclear", "unclear", "unclear: wrong or correct.");
        if (a is <= 0 or > 0.5) return Problems.Unprocessable("Invalid alpha", "alpha", "alpha: above 0 and at most 0.5 (0.05 gives 95 % intervals).");
        definition = new MultiLabelDefinition(average == "per-class" ? Average.PerClass : Average.Micro, unclear == "correct");
        return null;
    }

    /// <summary>
    /// The dataset named, or the default board's: the featured dataset, else the one with the most entries (an original
    /// before a shifted copy among equals), never one without entries while another has some (not even a featured one).
    /// </summary>
    internal static async Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, ScoringStore store, string? dataset)
    {
        if (dataset is not null) return await store.HeadAsync(connection, dataset);
        var slug = await connection.QuerySingleOrDefaultAsync<string>(
            """
            select d.slug from datasets d
            cross join lateral (select count(*) as entries from prediction_sets p where p.dataset_id = d.id) n
            order by n.entries > 0 desc, d.featured desc, d.shift_of is not null, n.entries desc, d.id
            limit 1
            """);
        return slug is null ? null : await store.HeadAsync(connection, slug);
    }

    /// <summary>The scope a request names on a dataset, or a 404 problem when the dataset has no such image set.</summary>
    internal static async Task<(ImageScope? Scope, ProblemHttpResult? Problem)> ScopeAsync(
        NpgsqlConnection connection, LeaderboardService service, DatasetHead head, DatasetData data, string? imageSet)
    {
        var (scope, _) = await service.ScopeAsync(connection, head, data, imageSet);
        return scope is null ? (null, Problems.NotFound($"Dataset '{head.Slug}' has no image set '{imageSet}' (GET /api/datasets/{head.Slug}/image-sets lists them).")) : (scope, null);
    }

    /// <param name="dataset">Dataset slug (default: the featured dataset, else the one with the most entries).</param>
    /// <param name="subset">The subset of the label space the main columns are computed on (default all).</param>
    /// <param name="metric">What ranks the rows: multilabel (default), top1, top5 or real.</param>
    /// <param name="average">Multi-label average: micro (mean over images, default) or per-class.</param>
    /// <param name="unclear">How 'unclear' items count: wrong (default) or correct.</param>
    /// <param name="alpha">1 - confidence level of the Clopper-Pearson intervals (default 0.05).</param>
    /// <param name="version">Recompute at this earlier label version (default: the current one).</param>
    /// <param name="format">csv for CSV (also with Accept: text/csv); timm for pytorch-image-models' result columns.</param>
    /// <param name="imageSet">The scope: grade every entry on this image set of the dataset, and on the set of the same
    /// name of the shifted dataset (default: the dataset's 'annotated' set when it has one, else every image; 'all' for
    /// every image).</param>
    /// <param name="fit">The space of the shift fit: logit (default, Taori et al. 2020), probit or linear.</param>
    /// <param name="fitOn">The entries the fit is made on: model (default: kind model) or non-human.</param>
    /// <param name="wait">Wait for the rank intervals and row tests when they are still computing (CSV always waits).</param>
    public static async Task<Results<FileContentHttpResult, ContentHttpResult, StatusCodeHttpResult, ProblemHttpResult>> Get(
        HttpContext context, LeaderboardService service, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource prepared, string? dataset = null, string? subset = null, string? metric = null,
        string? average = null, string? unclear = null, double? alpha = null, long? version = null, string? format = null,
        string? imageSet = null, string? fit = null, string? fitOn = null, bool wait = false)
    {
        if (Parse(metric, average, unclear, alpha, out var m, out var definition, out var a) is { } invalid) return invalid;
        if (format is not (null or "json" or "csv" or "timm")) return Problems.Unprocessable("Invalid format", "format", "format: json, csv or timm.");
        fit ??= "logit";
        fitOn ??= "model";
        if (!Boards.FitSpaces.Contains(fit)) return Problems.Unprocessable("Invalid fit", "fit", "fit: logit, probit or linear.");
        if (!Boards.FitGroups.Contains(fitOn)) return Problems.Unprocessable("Invalid fitOn", "fitOn", "fitOn: model or non-human.");
        var csv = format == "csv" || (format is null && context.Request.Headers.Accept.ToString().Contains("text/csv", StringComparison.OrdinalIgnoreCase));
        if (!service.AllowVariant(Client(context), alpha, version, out var retryAfter))
        {
            var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(title: "Too many board variants", statusCode: StatusCodes.Status429TooManyRequests,
                detail: $"This client has asked for many distinct alpha and version values; try again in {seconds} s. " +
                        "Boards at the default alpha and the current version are always served.");
        }
        var timing = new ServerTiming();
        // The fast path: one query tells whether a board computed earlier still holds. Prepared: its primary-key reads
        // take 0.3 ms, planning them took 1.2 (every cached board and 304 asks it).
        string? fingerprint = null;
        if (dataset is not null)
        {
            await using var quick = await prepared.OpenConnectionAsync();
            fingerprint = await LeaderboardService.FingerprintAsync(quick, dataset);
        }
        timing.Mark("fingerprint");
        var fastQuery = new BoardQuery(subset ?? "all", m, definition, a, version, imageSet, fit, fitOn);
        if (fingerprint is not null && service.Cached(fingerprint, fastQuery) is { } cached)
            return await AnswerAsync(context, cached, format, csv, wait, timing);

        await using var connection = await service.Db.OpenConnectionAsync();

        var head = await HeadAsync(connection, service.Store, dataset);
        if (head is null) return Problems.NotFound(dataset is null ? "There is no dataset yet." : $"Dataset '{dataset}' does not exist.");
        if (version is { } v && (v < 0 || v > head.LabelVersion))
            return Problems.Unprocessable("Invalid version", "version", $"version: 0 to the current label version {head.LabelVersion}.");
        var data = await service.Store.DataAsync(connection, head);
        var subsetName = subset ?? "all";
        if (data.Subsets.All(s => s.Name != subsetName)) return Problems.NotFound($"Dataset '{head.Slug}' has no subset '{subsetName}'.");
        timing.Mark("head");
        var outcome = await service.BoardAsync(connection, head,
            new BoardQuery(subsetName, m, definition, a, version == head.LabelVersion ? null : version, imageSet, fit, fitOn), timing);
        if (outcome.Board is not { } board)
            return Problems.NotFound($"Dataset '{head.Slug}' has no image set '{imageSet}' (GET /api/datasets/{head.Slug}/image-sets lists them).");
        // The fingerprint was read before the board's data, so a change in between only makes the next request recompute.
        if (fingerprint is not null) service.Remember(fingerprint, fastQuery, board);
        return await AnswerAsync(context, board, format, csv, wait, timing);
    }

    /// <summary>Who asks, for the variant limit: the signed-in user, else the client's address.</summary>
    private static string Client(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true ? "user:" + context.User.Identity.Name
        : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    /// <summary>The JSON is serialized once per computed board (and once more with its statistics): an answer copies bytes.</summary>
    private static async Task<Results<FileContentHttpResult, ContentHttpResult, StatusCodeHttpResult, ProblemHttpResult>> AnswerAsync(
        HttpContext context, CachedBoard board, string? format, bool csv, bool wait, ServerTiming timing)
    {
        var latest = board.Latest;
        if ((wait || csv || format == "timm") && latest.Statistics is { IsCompleted: false } statistics)
        {
            try { latest = await statistics.WaitAsync(TimeSpan.FromSeconds(60), context.RequestAborted); }
            catch (TimeoutException) { }
        }
        if (format == "timm") return TypedResults.Text(TimmCsv(latest.Board), "text/csv; charset=utf-8");
        if (csv) return TypedResults.Text(Csv(latest.Board), "text/csv; charset=utf-8");
        context.Response.Headers.Vary = "Accept-Encoding";
        var acceptsGzip = context.Request.Headers.AcceptEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
        var zipped = acceptsGzip ? latest.Gzip : null;
        var gzip = zipped is not null;
        var etag = latest.ETag(gzip);
        // A board still computing its statistics changes soon: caches ask again. A finished one may be served by a
        // proxy or CDN for a few seconds and then revalidated with its tag (a 304 costs one small query).
        context.Response.Headers.CacheControl = latest.Statistics is { IsCompleted: false }
            ? "no-cache"
            : $"public, max-age={BoardMaxAgeSeconds}";
        // Either representation the client holds is current: one that got the plain JSON while the gzip was being made
        // keeps it (a 304 under its tag) rather than fetching the same board again.
        foreach (var held in acceptsGzip ? [etag, latest.ETag(!gzip)] : new[] { etag })
            if (NoneMatch(context.Request, held))
            {
                context.Response.Headers.ETag = held;
                context.Response.Headers["Server-Timing"] = timing.Header();
                return TypedResults.StatusCode(StatusCodes.Status304NotModified);
            }
        context.Response.Headers.ETag = etag;
        var body = zipped ?? latest.Json;
        timing.Mark("answer");
        context.Response.Headers["Server-Timing"] = timing.Header();
        if (gzip) context.Response.Headers.ContentEncoding = "gzip";
        else if (acceptsGzip) context.Response.OnCompleted(() => { latest.StartGzip(); return Task.CompletedTask; });
        return TypedResults.Bytes(body, "application/json");
    }

    /// <summary>How long a shared cache may serve a finished board before it revalidates.</summary>
    public const int BoardMaxAgeSeconds = 5;

    /// <summary>If-None-Match names this tag (weak comparison, as RFC 9110 has it for this header) or is "*".</summary>
    private static bool NoneMatch(HttpRequest request, string etag)
    {
        var tags = request.GetTypedHeaders().IfNoneMatch;
        if (tags.Count == 0) return false;
        var ours = new Microsoft.Net.Http.Headers.EntityTagHeaderValue(etag);
        return tags.Any(t => t.Equals(Microsoft.Net.Http.Headers.EntityTagHeaderValue.Any) || t.Compare(ours, useStrongComparison: false));
    }

    /// <summary>
    /// The columns of pytorch-image-models' results files (percent, 3 decimals; param_count in millions), followed by
    /// the multi-label accuracy of the board's definition, so existing tooling reads the board as it reads timm's.
    /// </summary>
    private static string TimmCsv(LeaderboardResponse board)
    {
        static string P(double? value) => value is { } v ? (100 * v).ToString("0.000", CultureInfo.InvariantCulture) : "";
        static string E(double? value) => value is { } v ? (100 - 100 * v).ToString("0.000", CultureInfo.InvariantCulture) : "";
        var sb = new StringBuilder("model,top1,top1_err,top5,top5_err,param_count,multilabel,multilabel_err\n");
        foreach (var r in board.Rows)
            sb.Append(CsvCells.Text(r.Slug)).Append(CultureInfo.InvariantCulture, $",{P(r.Top1.Value)},{E(r.Top1.Value)},{P(r.Top5?.Value)},{E(r.Top5?.Value)},")
              .Append(r.ParameterCount is { } count ? (count / 1e6).ToString("0.00", CultureInfo.InvariantCulture) : "")
              .Append(CultureInfo.InvariantCulture, $",{P(r.MultiLabel.Value)},{E(r.MultiLabel.Value)}\n");
        return sb.ToString();
    }

    private static string Csv(LeaderboardResponse board)
    {
        static string F(double? value) => value?.ToString("0.######", CultureInfo.InvariantCulture) ?? "";
        static string Q(string text) => CsvCells.Text(text);
        var sb = new StringBuilder();
        var subsets = board.Subsets;
        sb.Append("rank,rank_lower,rank_upper,model,display_name,kind,complete,predicted,images,value,top1,top1_lower,top1_upper,top5,")
          .Append("multilabel,multilabel_lower,multilabel_upper,correct,decided,pending,decided_only,bound_lower,bound_upper,provisional,")
          .Append("strict,lenient,real,real_top5,")
          .Append(string.Concat(subsets.Select(s => Q("subset_" + s) + ",")))
          .Append("shifted,drop,effective_robustness,versus_next_p,versus_next_significant,label_version,image_set\n");
        foreach (var r in board.Rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.Rank},{r.RankInterval?.Lower},{r.RankInterval?.Upper},{Q(r.Slug)},{Q(r.DisplayName)},{r.Kind},")
              .Append(CultureInfo.InvariantCulture, $"{(r.Complete ? "true" : "false")},{r.Predicted},{r.Images},{F(r.Value)},")
              .Append(CultureInfo.InvariantCulture, $"{F(r.Top1.Value)},{F(r.Top1.Lower)},{F(r.Top1.Upper)},{F(r.Top5?.Value)},")
              .Append(CultureInfo.InvariantCulture, $"{F(r.MultiLabel.Value)},{F(r.MultiLabel.Lower)},{F(r.MultiLabel.Upper)},{r.MultiLabel.Correct},{r.MultiLabel.Decided},{r.MultiLabel.Pending},")
              .Append(CultureInfo.InvariantCulture, $"{F(r.MultiLabel.DecidedOnly)},{F(r.MultiLabel.BoundLower)},{F(r.MultiLabel.BoundUpper)},{(r.Provisional ? "true" : "false")},")
              .Append(CultureInfo.InvariantCulture, $"{F(r.Strict.Value)},{F(r.Lenient.Value)},{F(r.Real?.Value)},{F(r.RealTop5?.Value)},");
            foreach (var s in subsets) sb.Append(F(r.Subsets.FirstOrDefault(x => x.Subset == s)?.Value)).Append(',');
            sb.Append(CultureInfo.InvariantCulture, $"{F(r.Shift?.Value)},{F(r.Shift?.Drop)},{F(r.Shift?.EffectiveRobustness)},")
              .Append(CultureInfo.InvariantCulture, $"{F(r.VersusNext?.PValue)},{(r.VersusNext is null ? "" : r.VersusNext.Significant ? "true" : "false")},")
              .Append(CultureInfo.InvariantCulture, $"{board.LabelVersion},{Q(board.ImageSet ?? "")}\n");
        }
        return sb.ToString();
    }

    /// <param name="slug">A model slug, or human-majority / model-majority.</param>
    /// <param name="dataset">Dataset slug (default: the first dataset the model has predictions on).</param>
    /// <param name="unclear">How 'unclear' counts for the wrong images: wrong (default) or correct.</param>
    /// <param name="alpha">1 - confidence level of the intervals (default 0.05).</param>
    /// <param name="limit">At most this many wrong images (default 200, at most 5,000).</param>
    /// <param name="imageSet">The scope, as for the leaderboard (default: the dataset's 'annotated' set, else every image; 'all').</param>
    public static async Task<Results<Ok<ModelResultsResponse>, ProblemHttpResult>> ModelResults(
        LeaderboardService service, string slug, string? dataset = null, string? unclear = null, double? alpha = null, int limit = 200,
        string? imageSet = null)
    {
        if (Parse(null, null, unclear, alpha, out _, out var definition, out var a) is { } invalid) return invalid;
        if (limit is < 0 or > 5000) return Problems.Unprocessable("Invalid limit", "limit", "limit: 0 to 5000.");
        await using var connection = await service.Db.OpenConnectionAsync();
        dataset ??= await connection.QuerySingleOrDefaultAsync<string>(
            """
            select d.slug from prediction_sets ps join models m on m.id = ps.model_id join datasets d on d.id = ps.dataset_id
            where m.slug = @slug order by d.shift_of is not null, d.id limit 1
            """, new { slug })
            ?? await connection.QuerySingleOrDefaultAsync<string>("select slug from datasets order by shift_of is not null, id limit 1");
        var head = dataset is null ? null : await service.Store.HeadAsync(connection, dataset);
        if (head is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        var (scope, missing) = await ScopeAsync(connection, service, head, await service.Store.DataAsync(connection, head), imageSet);
        if (missing is not null) return missing;
        var scored = await service.ScoreAsync(connection, head, await ScoringStore.EntriesAsync(connection, head.Id), head.LabelVersion, scope!);
        var entry = scored.Entries.FirstOrDefault(e => e.Slug == slug);
        if (entry is null) return Problems.NotFound($"Model '{slug}' has no predictions on dataset '{head.Slug}'.");

        var c = entry.Counts;
        var hasReference = scored.Data.Images.HasReference;
        var subsets = scored.Data.Subsets.Select(s => new ModelSubsetResult(
            s.Name,
            Score.From(Scoring.Top1(c, s.Classes, a)),
            entry.K == 5 ? Score.From(Scoring.Top5(c, s.Classes, a)) : null,
            MultiLabelResult.From(Scoring.MultiLabel(c, s.Classes, MultiLabelDefinition.Strict, a)),
            MultiLabelResult.From(Scoring.MultiLabel(c, s.Classes, MultiLabelDefinition.Lenient, a)),
            hasReference ? Score.From(Scoring.Real(c, s.Classes, a)) : null,
            Scoring.Complete(c, s.Classes))).ToArray();
        var data = scored.Data;
        var classes = Enumerable.Range(0, data.Images.ClassCount).Where(i => data.Wnids[i] is not null).Select(i =>
        {
            long decided = c.Correct[i] + c.Unclear[i] + c.Wrong[i];
            long graded = decided + c.Pending[i];
            return new ClassResult(i, data.Wnids[i], data.Lemmas[i], c.Predicted[i],
                c.Predicted[i] == 0 ? null : (double)c.Top1[i] / c.Predicted[i],
                graded == 0 ? null : (double)c.Correct[i] / graded,
                graded == 0 ? null : (double)(c.Correct[i] + c.Unclear[i]) / graded,
                decided, c.Pending[i]);
        }).ToArray();

        var wrong = new List<WrongImage>();
        long wrongCount = 0;
        for (var i = 0; i < data.Images.Count; i++)
        {
            var p = entry.Predictions.Top1(i);
            if (p < 0 || scored.Labels.Problematic[i] || (scope!.Mask is not null && !scope.Mask[i])) continue;
            var state = scored.Labels.StateOf(i, p);
            if (!(state == ItemState.Wrong || (state == ItemState.Unclear && !definition.UnclearCountsCorrect))) continue;
            wrongCount++;
            if (wrong.Count >= limit) continue;
            var o = data.Images.OriginalClass[i];
            wrong.Add(new WrongImage(data.ImageIds[i], data.Wnids[o], data.Lemmas[o], data.Wnids[p], data.Lemmas[p], state == ItemState.Wrong ? "wrong" : "unclear"));
        }
        return TypedResults.Ok(new ModelResultsResponse(
            new ModelRef(entry.Slug, entry.DisplayName, entry.Kind, entry.Computed), head.Slug, head.LabelVersion, a, scope!.Name,
            subsets, classes, wrongCount, wrong.ToArray()));
    }

    private sealed record ImageRow
    {
        public required long Id { get; init; }
        public required string Dataset { get; init; }
        public required string OriginalWnid { get; init; }
        public required string OriginalLemma { get; init; }
        public required bool Problematic { get; init; }
        public required long LabelVersion { get; init; }
    }

    public static async Task<Results<Ok<ImagePredictionsResponse>, ProblemHttpResult>> ImagePredictions(NpgsqlDataSource db, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var image = await connection.QuerySingleOrDefaultAsync<ImageRow>(
            """
            select i.id, d.slug as dataset, i.original_wnid, s.lemmas[1] as original_lemma,
                   coalesce(st.problematic, false) as problematic, d.label_version
            from images i join datasets d on d.id = i.dataset_id join synsets s on s.wnid = i.original_wnid
            left join image_states st on st.image_id = i.id
            where i.id = @id
            """, new { id });
        if (image is null) return Problems.NotFound($"Image {id} does not exist.");
        var rows = await connection.QueryAsync<ImagePrediction>(
            """
            select m.slug as model, m.display_name, m.kind,
                   array(select c.wnid from unnest(p.labels) with ordinality l(ix, n)
                         join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = l.ix order by l.n) as labels,
                   top.wnid as top1_wnid, s.lemmas[1] as top1_lemma, coalesce(r.state, 'pending') as state,
                   top.wnid = i.original_wnid as top1_matches_original,
                   case when coalesce(st.problematic, false) or coalesce(r.state, 'pending') in ('pending', 'conflict') then null
                        else r.state = 'correct' end as strict,
                   case when coalesce(st.problematic, false) or coalesce(r.state, 'pending') in ('pending', 'conflict') then null
                        else r.state in ('correct', 'unclear') end as lenient
            from images i
            join datasets d on d.id = i.dataset_id
            join prediction_sets ps on ps.dataset_id = i.dataset_id
            join models m on m.id = ps.model_id
            cross join lateral prediction_at(ps.upload_id, i.id) p
            join label_space_classes top on top.label_space_id = d.label_space_id and top.class_index = p.labels[1]
            join synsets s on s.wnid = top.wnid
            left join review_items r on r.image_id = i.id and r.wnid = top.wnid
            left join image_states st on st.image_id = i.id
            where i.id = @id
            order by m.kind, m.display_name
            """, new { id });
        return TypedResults.Ok(new ImagePredictionsResponse(image.Id, image.Dataset, image.OriginalWnid, image.OriginalLemma,
            image.Problematic, image.LabelVersion, rows.ToArray()));
    }

    /// <param name="dataset">Dataset slug (default: the featured dataset, else the one with the most entries).</param>
    /// <param name="by">models (kinds model and model-extra-data, default) or humans.</param>
    /// <param name="unclear">How 'unclear' counts: wrong (default) or correct.</param>
    /// <param name="limit">At most this many images per list (default 100, at most 2,000).</param>
    /// <param name="imageSet">The scope, as for the leaderboard (default: the dataset's 'annotated' set, else every image; 'all').</param>
    public static async Task<Results<Ok<HardImagesResponse>, ProblemHttpResult>> HardImages(
        LeaderboardService service, string? dataset = null, string? by = null, string? unclear = null, int limit = 100, string? imageSet = null)
    {
        if (Parse(null, null, unclear, null, out _, out var definition, out _) is { } invalid) return invalid;
        by ??= "models";
        if (by is not ("models" or "humans")) return Problems.Unprocessable("Invalid by", "by", "by: models or humans.");
        if (limit is < 0 or > 2000) return Problems.Unprocessable("Invalid limit", "limit", "limit: 0 to 2000.");
        await using var connection = await service.Db.OpenConnectionAsync();
        var head = await HeadAsync(connection, service.Store, dataset);
        if (head is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        var (scope, missing) = await ScopeAsync(connection, service, head, await service.Store.DataAsync(connection, head), imageSet);
        if (missing is not null) return missing;
        var scored = await service.ScoreAsync(connection, head, await ScoringStore.EntriesAsync(connection, head.Id), head.LabelVersion, scope!);
        var (hardModels, hardHumans, modelCount, humanCount) = Mistakes(scored, definition.UnclearCountsCorrect);
        var n = scored.Data.Images.Count;
        var chosen = by == "models" ? hardModels : hardHumans;
        var both = Enumerable.Range(0, n).Select(i => hardModels[i] && hardHumans[i]).ToArray();

        var groups = new[] { (by, by == "models" ? modelCount : humanCount, chosen), ("models-and-humans", modelCount + humanCount, both) };
        var listed = groups.SelectMany(g => Enumerable.Range(0, n).Where(i => g.Item3[i]).Take(limit)).Select(i => scored.Data.ImageIds[i]).Distinct().ToArray();
        var hasFile = (await connection.QueryAsync<(long Id, bool HasFile)>(
            "select id, sha256 is not null from images where id = any(@listed)", new { listed })).ToDictionary(r => r.Id, r => r.HasFile);

        HardImageGroup Group(string name, int entries, bool[] hard)
        {
            var images = scored.Data.Images;
            var bySubset = scored.Data.Subsets.Select(s =>
                new SubsetCount(s.Name, Enumerable.Range(0, n).LongCount(i => hard[i] && s.Classes[images.OriginalClass[i]]))).ToArray();
            var list = Enumerable.Range(0, n).Where(i => hard[i]).Take(limit).Select(i =>
            {
                var o = images.OriginalClass[i];
                var imageId = scored.Data.ImageIds[i];
                return new HardImage(imageId, scored.Data.Wnids[o], scored.Data.Lemmas[o], hasFile.GetValueOrDefault(imageId), Said(scored, i));
            }).ToArray();
            return new HardImageGroup(name, entries, hard.LongCount(h => h), bySubset, list);
        }
        return TypedResults.Ok(new HardImagesResponse(head.Slug, by, head.LabelVersion, definition.UnclearCountsCorrect ? "correct" : "wrong", scope!.Name,
            Group(groups[0].Item1, groups[0].Item2, groups[0].Item3), Group(groups[1].Item1, groups[1].Item2, groups[1].Item3)));
    }

    /// <summary>The three most frequent top-1 answers of the models (kinds model, model-extra-data) and humans to image i.</summary>
    private static TopAnswer[] Said(ScoredDataset scored, int i)
    {
        var counts = new Dictionary<int, (int Models, int Humans)>();
        foreach (var e in scored.Entries)
        {
            var human = e.Kind == "human";
            if (!human && e.Kind is not ("model" or "model-extra-data")) continue;
            var p = e.Predictions.Top1(i);
            if (p < 0) continue;
            var (m, h) = counts.GetValueOrDefault(p);
            counts[p] = human ? (m, h + 1) : (m + 1, h);
        }
        return counts.OrderByDescending(c => c.Value.Models + c.Value.Humans).ThenBy(c => c.Key).Take(3)
            .Select(c => new TopAnswer(scored.Data.Wnids[c.Key], scored.Data.Lemmas[c.Key], c.Value.Models, c.Value.Humans)).ToArray();
    }

    /// <summary>The images every model (kinds model, model-extra-data) and every human gets wrong, on the scored scope.</summary>
    internal static (bool[] Models, bool[] Humans, int ModelCount, int HumanCount) Mistakes(ScoredDataset scored, bool unclearCountsCorrect)
    {
        var models = scored.Entries.Where(e => e.Kind is "model" or "model-extra-data").Select(e => e.Predictions).ToList();
        var humans = scored.Entries.Where(e => e.Kind == "human").Select(e => e.Predictions).ToList();
        var n = scored.Data.Images.Count;
        return (Scoring.AllWrong(models, scored.Labels, n, unclearCountsCorrect, scored.Scope.Mask),
            Scoring.AllWrong(humans, scored.Labels, n, unclearCountsCorrect, scored.Scope.Mask), models.Count, humans.Count);
    }
}
