using System.Security.Claims;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Relabel.Api.Features.Images;
using Relabel.Api.Features.Leaderboard;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Review;

public static class ReviewApi
{
    /// <summary>How long "next" reserves an image for the reviewer it gave it to.</summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    public static RouteGroupBuilder MapReview(this IEndpointRouteBuilder routes)
    {
        var review = routes.MapGroup("/api/review").WithTags("Review").RequireAuthorization(Policies.Reviewer)
            .AfterPredictionFollowups();
        review.MapGet("/next", Next).WithName("NextReviewImage")
            .WithSummary("The next image for the caller to review, reserved for a few minutes; 204 when the queue is empty.");
        review.MapGet("/images/{id:long}", GetImage).WithName("GetReviewImage")
            .WithSummary("One image as a reviewer sees it (candidate labels, states, own verdicts), without reserving it.");
        review.MapPost("/images/{id:long}", Submit).WithName("SubmitReview")
            .WithSummary("All verdicts for one image and its optional problematic flag, in one transaction; 409 if anything changed since it was read.");
        review.MapGet("/progress", Progress).WithName("ReviewProgress")
            .WithSummary("Items decided and pending by subset, reviewers' counts and speed, and agreement between reviewers.");
        review.MapPost("/items/{id:long}/adjudicate", Adjudicate).WithName("AdjudicateItem").RequireAuthorization(Policies.Admin)
            .WithSummary("An admin's final word on an item ('unreviewed' withdraws the adjudication).");

        routes.MapGet("/api/images/{id:long}/history", History).WithTags("Review").WithName("ImageHistory")
            .RequireAuthorization(Policies.SignedIn).AfterPredictionFollowups()
            .WithSummary("Every verdict and flag event of an image, oldest first.");
        routes.MapPut("/api/datasets/{slug}/consensus", SetConsensus).WithTags("Review").WithName("SetConsensusRule")
            .RequireAuthorization(Policies.Admin).AfterPredictionFollowups()
            .WithSummary("Set the dataset's consensus rule ('latest', 'majority' or 'agreement:N') and re-derive every item state.");
        return review;
    }

    private sealed record DatasetIds(long DatasetId, long? SubsetId);

    private sealed record Leased(long ImageId, DateTime? ExpiresAt);

    /// <param name="dataset">Dataset slug.</param>
    /// <param name="subset">Only images whose original label is in this subset.</param>
    /// <param name="wnid">Only images whose original label is this class.</param>
    /// <param name="mode">pending (default), conflicts, or problematic (images flagged problematic).</param>
    /// <param name="skip">Image ids not to return (the one on screen, when prefetching).</param>
    public static async Task<Results<Ok<ReviewImage>, NoContent, ProblemHttpResult>> Next(
        ClaimsPrincipal user, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db, ScoringStore store, string dataset, string? subset = null, string? wnid = null,
        string? mode = null, [FromQuery] long[]? skip = null)
    {
        mode ??= "pending";
        if (mode is not ("pending" or "conflicts" or "problematic"))
            return Problems.Unprocessable("Invalid mode", "mode: pending, conflicts or problematic.");
        var me = user.UserId();
        var excluded = (skip ?? []).ToList();
        object Parameters() => new { dataset, subset, me, wnid, skip = excluded.ToArray(), seconds = LeaseDuration.TotalSeconds };
        // The dataset and subset are looked up by the same round trip that takes the lease; the ids only tell a 404.
        const string DatasetId = "(select id from datasets where slug = @dataset)";
        const string Filters =
            $"""
              and (@wnid::text is null or q.original_wnid = @wnid)
              and (@subset::text is null or q.original_wnid in (
                    select w.wnid from subsets s cross join subset_wnids(s.id) w
                    where s.dataset_id = {DatasetId} and s.name = @subset))
              and not (q.image_id = any(@skip))
              and not exists (select 1 from review_done d where d.reviewer_id = @me and d.image_id = q.image_id)
            """;
        var source = mode switch
        {
            "conflicts" => $"from review_queue q where q.dataset_id = {DatasetId} and q.conflicts > 0",
            "problematic" => $"from review_queue q join image_states st on st.image_id = q.image_id and st.problematic where q.dataset_id = {DatasetId}",
            _ => $"from review_queue q where q.dataset_id = {DatasetId} and q.pending > 0",
        };
        var order = mode switch
        {
            "conflicts" => "order by q.conflicts desc, q.image_id",
            "problematic" => "order by q.image_id",
            _ => "order by q.pending desc, q.image_id",
        };
        // Driven by the reviewer's few leases: scanning the queue for them would read every pending image.
        var ownLease = source.Replace("from review_queue q",
            "from review_leases l join review_queue q on q.image_id = l.image_id and l.reviewer_id = @me and l.expires_at > now()");
        // One statement: the caller's own unexpired lease first (a reload shows the same image), else the first image in
        // priority order that no one else leases, skipping rows another "next" is taking right now; then the lease. A
        // "next" that committed after this statement's snapshot may hold the image already: the upsert sees it and
        // refuses (no expiry comes back), and the image is skipped.
        var take =
            $"""
             with own as (
                 select q.image_id {ownLease}
                 {Filters}
                 {order}
                 limit 1
             ), free as (
                 select q.image_id {source}
                   and not exists (select 1 from own)
                   and not exists (select 1 from review_leases l where l.image_id = q.image_id and l.reviewer_id <> @me and l.expires_at > now())
                 {Filters}
                 {order}
                 limit 1
                 for update of q skip locked
             ), chosen as (
                 select image_id from own union all select image_id from free
             ), leased as (
                 insert into review_leases (image_id, reviewer_id, expires_at)
                 select image_id, @me, now() + make_interval(secs => @seconds) from chosen
                 on conflict (image_id) do update set reviewer_id = excluded.reviewer_id, expires_at = excluded.expires_at
                 where review_leases.reviewer_id = excluded.reviewer_id or review_leases.expires_at <= now()
                 returning image_id, expires_at
             )
             select c.image_id, l.expires_at from chosen c left join leased l on l.image_id = c.image_id;
             """;

        await using var connection = await db.OpenConnectionAsync();
        Leased? leased;
        Loaded? loaded;
        // One round trip: the ids (for a 404), the lease, and the page of the image just leased (the statements of a
        // batch share one transaction, so the lease taken is the reviewer's latest one). A lease need not survive a
        // crash (the image is offered again), so its commit does not wait for the disk.
        using (var results = await connection.QueryMultipleAsync(
            $"""
             select set_config('synchronous_commit', 'off', true);
             select d.id as dataset_id, s.id as subset_id from datasets d
             left join subsets s on s.dataset_id = d.id and s.name = @subset
             where d.slug = @dataset;
             {take}
             {LoadSql("(select image_id from review_leases where reviewer_id = @me and expires_at > now() order by expires_at desc, image_id desc limit 1)")}
             """,
            Parameters()))
        {
            await results.ReadSingleAsync<string>();
            var ids = await results.ReadSingleOrDefaultAsync<DatasetIds>();
            if (ids is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
            if (subset is not null && ids.SubsetId is null) return Problems.NotFound($"Dataset '{dataset}' has no subset '{subset}'.");
            leased = await results.ReadSingleOrDefaultAsync<Leased>();
            loaded = await ReadLoadedAsync(results);
        }
        for (var attempt = 0; leased is { ExpiresAt: null } && attempt < 8; attempt++)
        {
            excluded.Add(leased.ImageId);
            leased = await connection.QuerySingleOrDefaultAsync<Leased>(take, Parameters());
            loaded = null;
        }
        if (leased?.ExpiresAt is not { } expires) return TypedResults.NoContent();

        var image = loaded?.Image?.Id == leased.ImageId
            ? await CompleteAsync(connection, store, loaded)
            : await LoadAsync(connection, store, leased.ImageId, me);
        return TypedResults.Ok(image! with { LeaseExpiresAt = new DateTimeOffset(expires, TimeSpan.Zero) });
    }

    public static async Task<Results<Ok<ReviewImage>, ProblemHttpResult>> GetImage(ClaimsPrincipal user, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db, ScoringStore store, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var image = await LoadAsync(connection, store, id, user.UserId());
        return image is null ? Problems.NotFound($"Image {id} does not exist.") : TypedResults.Ok(image);
    }

    /// <summary>What one image's review page needs, as read from the database.</summary>
    private sealed record Loaded(
        ImageResponse? Image, List<ReviewLabel> Labels, ImageFlagState Flag, List<GuideNote> Notes, DatasetHead? Head, List<UploadHead> Uploads);

    /// <summary>
    /// The statements that read an image's review page; <paramref name="image"/> is a parameter or a scalar subquery.
    /// How many models predict each label is counted afterwards from the leaderboard's cached predictions.
    /// </summary>
    private static string LoadSql(string image) =>
        $"""
         {ImagesApi.ImageSelect} where i.id = {image};

         select r.id as item_id, r.wnid, s.lemmas, s.gloss, r.wnid = i.original_wnid as is_original, 0 as models,
                r.state, r.version, nullif(mine.verdict, 'unreviewed') as my_verdict
         from review_items r
         join images i on i.id = r.image_id
         join synsets s on s.wnid = r.wnid
         left join lateral (
             select e.verdict from verdict_events e
             where e.item_id = r.id and e.reviewer_id = @me and not e.adjudication
             order by e.id desc limit 1
         ) mine on true
         where r.image_id = {image}
         order by r.wnid = i.original_wnid desc, r.id;

         select problematic, reason, version from image_states where image_id = {image};

         select n.id, n.wnid, n.other_wnid, n.body, n.updated_at
         from guide_notes n
         where n.wnid in (select wnid from review_items where image_id = {image})
           and (n.other_wnid is null or n.other_wnid in (select wnid from review_items where image_id = {image}))
         order by n.other_wnid nulls first, n.wnid, n.other_wnid;

         {ScoringStore.HeadSql} where d.id = (select dataset_id from images where id = {image});

         select upload_id, k::int as k from prediction_sets where dataset_id = (select dataset_id from images where id = {image});
         """;

    private static async Task<Loaded> ReadLoadedAsync(SqlMapper.GridReader results) => new(
        await results.ReadSingleOrDefaultAsync<ImageResponse>(),
        (await results.ReadAsync<ReviewLabel>()).ToList(),
        await results.ReadSingleOrDefaultAsync<ImageFlagState>() ?? new ImageFlagState(false, null, 0),
        (await results.ReadAsync<GuideNote>()).ToList(),
        await results.ReadSingleOrDefaultAsync<DatasetHead>(),
        (await results.ReadAsync<UploadHead>()).ToList());

    private static async Task<ReviewImage?> CompleteAsync(NpgsqlConnection connection, ScoringStore store, Loaded loaded)
    {
        if (loaded.Image is null || loaded.Head is null) return null;
        var models = await store.Top1VotesAsync(connection, loaded.Head, loaded.Uploads, loaded.Image.Id);
        return new ReviewImage(loaded.Image, loaded.Labels.Select(l => l with { Models = models.GetValueOrDefault(l.Wnid) }).ToList(),
            loaded.Flag, loaded.Notes, null);
    }

    /// <summary>An image as the reviewer sees it, in one round trip.</summary>
    internal static async Task<ReviewImage?> LoadAsync(NpgsqlConnection connection, ScoringStore store, long imageId, long me)
    {
        Loaded loaded;
        using (var results = await connection.QueryMultipleAsync(LoadSql("@imageId"), new { imageId, me }))
            loaded = await ReadLoadedAsync(results);
        return await CompleteAsync(connection, store, loaded);
    }

    private sealed record SubmitDataset(long Id, string ConsensusRule, long LabelVersion);

    // Two round trips: one begins, locks and reads everything the write depends on; one writes it all and commits.
    public static async Task<Results<Ok<SubmitReviewResponse>, ValidationProblem, ProblemHttpResult>> Submit(
        long id, SubmitReviewRequest request, IValidator<SubmitReviewRequest> validator, ClaimsPrincipal user, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db,
        ScoringStore store)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        var me = user.UserId();

        await using var connection = await db.OpenConnectionAsync();
        // A plain "begin" rather than an NpgsqlTransaction, so that the write, the commit and the read of the committed
        // label version share one round trip; anything that leaves before the commit rolls back.
        var ended = false;
        try
        {
            SubmitDataset? dataset;
            Dictionary<long, ItemVersion> items;
            ILookup<long, StoredVerdict> events;
            ImageFlagState flagState;
            using (var read = await connection.QueryMultipleAsync(
                $"""
                 begin;
                 select d.id, d.consensus_rule, d.label_version from images i join datasets d on d.id = i.dataset_id
                 where i.id = @id for key share of d;
                 select id, state, version from review_items where image_id = @id order by id for update;
                 select {ReviewWriter.StoredVerdictColumns} from verdict_events e join review_items r on r.id = e.item_id
                 where r.image_id = @id order by e.id;
                 {(request.Flag is null ? "" : "insert into image_states (image_id) select id from images where id = @id on conflict do nothing;")}
                 select problematic, reason, version from image_states where image_id = @id {(request.Flag is null ? "" : "for update")};
                 """,
                new { id }))
            {
                dataset = await read.ReadSingleOrDefaultAsync<SubmitDataset>();
                items = (await read.ReadAsync<ItemVersion>()).ToDictionary(i => i.Id);
                events = (await read.ReadAsync<StoredVerdict>()).ToLookup(e => e.ItemId);
                flagState = await read.ReadSingleOrDefaultAsync<ImageFlagState>() ?? new ImageFlagState(false, null, 0);
            }
            if (dataset is null) return Problems.NotFound($"Image {id} does not exist.");
            var foreign = request.Verdicts.Where(v => !items.ContainsKey(v.ItemId)).Select(v => v.ItemId).ToList();
            if (foreign.Count > 0)
                return Problems.Unprocessable("Unknown items", $"Items {string.Join(", ", foreign)} are not candidate labels of image {id}.");

            var stale = request.Verdicts.Where(v => items[v.ItemId].Version != v.Version).Select(v => v.ItemId).ToList();
            if (stale.Count > 0 || (request.Flag is not null && request.Flag.Version != flagState.Version))
            {
                await connection.ExecuteAsync("rollback");
                ended = true;
                var current = await LoadAsync(connection, store, id, me);
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "The image changed since you loaded it",
                    Detail = stale.Count > 0
                        ? $"Items {string.Join(", ", stale)} have newer verdicts; nothing was written. Review them again."
                        : "The problematic flag changed; nothing was written. Review it again.",
                    Extensions = { ["current"] = current, ["staleItems"] = stale },
                });
            }

            // Re-sending one's standing verdict adds nothing to the log.
            var author = ReviewWriter.Author(me, null);
            var verdicts = request.Verdicts
                .Where(v => !string.IsNullOrEmpty(v.Note)
                    || (events[v.ItemId].LastOrDefault(e => e.Author == author && !e.Adjudication)?.Verdict ?? Verdicts.Unreviewed) != v.Verdict)
                .Select(v => new NewVerdict(v.ItemId, v.Verdict, v.Note ?? "", false))
                .ToList();
            var flags = new List<NewFlag>();
            if (request.Flag is { } f && (flagState.Problematic != f.Problematic || flagState.Reason != f.Reason || !string.IsNullOrEmpty(f.Note)))
                flags.Add(new NewFlag(id, f.Problematic, f.Reason, f.Note ?? ""));

            // The bookkeeping runs after the write's commit, in its own transaction: see ReviewWriter.WriteAsync.
            var basis = new WriteBasis(items, events, new Dictionary<long, bool> { [id] = flagState.Problematic }, dataset.LabelVersion);
            var outcome = await ReviewWriter.WriteAsync(connection, null, basis, dataset.Id, dataset.ConsensusRule, me, null,
                verdicts, flags, request.SecondsSpent, commit: true,
                afterCommitSql:
                """
                with done as (
                    insert into review_done (reviewer_id, image_id) values (@me, @image)
                    on conflict (reviewer_id, image_id) do update set submitted_at = now()
                )
                delete from review_leases where image_id = @image and reviewer_id = @me;
                """,
                afterCommitParameters: new { me, image = id });
            ended = true;
            var written = outcome.Items.ToDictionary(i => i.ItemId);
            var finalItems = items.Values
                .Select(i => written.GetValueOrDefault(i.Id) ?? new ItemStateResponse(i.Id, i.State, i.Version))
                .OrderBy(i => i.ItemId).ToList();
            return TypedResults.Ok(new SubmitReviewResponse(id, outcome.Events, finalItems,
                outcome.Flags.GetValueOrDefault(id) ?? flagState, outcome.LabelVersion));
        }
        finally
        {
            // A failed statement or an early return leaves the transaction open: end it before the connection goes back.
            // (If that fails too, the connection is gone and the error that brought us here is the one to report.)
            if (!ended && connection.State == System.Data.ConnectionState.Open)
                try { await connection.ExecuteAsync("rollback"); }
                catch (NpgsqlException) { }
        }
    }

    public static async Task<Results<Ok<ItemStateResponse>, ValidationProblem, ProblemHttpResult>> Adjudicate(
        long id, AdjudicateRequest request, IValidator<AdjudicateRequest> validator, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, string Rule)?>(
            """
            select d.id, d.consensus_rule from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where r.id = @id for key share of d
            """,
            new { id }, transaction);
        if (dataset is null) return Problems.NotFound($"Review item {id} does not exist.");
        var item = await connection.QuerySingleAsync<ItemStateResponse>(
            "select id as item_id, state, version from review_items where id = @id for update", new { id }, transaction);
        if (item.Version != request.Version)
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The item changed since you loaded it",
                Detail = $"Item {id} is at version {item.Version}, not {request.Version}; nothing was written.",
                Extensions = { ["current"] = item },
            });
        var outcome = await ReviewWriter.AppendAsync(connection, transaction, dataset.Value.Id, dataset.Value.Rule, user.UserId(), null,
            [new NewVerdict(id, request.Verdict, request.Note ?? "", true)], [], null);
        await transaction.CommitAsync();
        return TypedResults.Ok(outcome.Items.Single());
    }

    public static async Task<Results<Ok<ConsensusResponse>, ValidationProblem, ProblemHttpResult>> SetConsensus(
        string slug, ConsensusRequest request, IValidator<ConsensusRequest> validator, NpgsqlDataSource db)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>(
            "update datasets set consensus_rule = @Rule where slug = @slug returning id", new { request.Rule, slug }, transaction);
        if (datasetId is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var (changed, version) = await ReviewWriter.RederiveAsync(connection, transaction, datasetId.Value, request.Rule);
        await transaction.CommitAsync();
        return TypedResults.Ok(new ConsensusResponse(slug, request.Rule, changed, version));
    }

    private sealed record StandingVerdict(long ItemId, string Reviewer, string Verdict);

    /// <param name="dataset">Dataset slug.</param>
    public static async Task<Results<Ok<ReviewProgress>, ProblemHttpResult>> Progress(ClaimsPrincipal user, NpgsqlDataSource db, string dataset)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelVersion, string Rule)?>(
            "select id, label_version, consensus_rule from datasets where slug = @dataset", new { dataset });
        if (row is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        var datasetId = row.Value.Id;
        using var results = await connection.QueryMultipleAsync(
            """
            select s.name as subset, x.images, x.items, x.decided, x.pending, x.conflicts
            from subsets s
            cross join lateral (
                select count(distinct r.image_id) as images, count(*) as items,
                       count(*) filter (where r.state in ('correct', 'wrong', 'unclear')) as decided,
                       count(*) filter (where r.state = 'pending') as pending,
                       count(*) filter (where r.state = 'conflict') as conflicts
                from review_items r join images i on i.id = r.image_id
                where i.dataset_id = @datasetId and i.original_wnid in (select wnid from subset_wnids(s.id))
            ) x
            where s.dataset_id = @datasetId
            order by s.built_in desc, s.id;

            select u.name as reviewer, count(*) as verdicts, count(distinct r.image_id) as images,
                   count(*) filter (where e.created_at >= date_trunc('day', now())) as today,
                   coalesce(sum(e.seconds_spent), 0)::float8 as seconds_spent,
                   case when sum(e.seconds_spent) > 0 then count(*) * 3600.0 / sum(e.seconds_spent) end::float8 as verdicts_per_hour
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join users u on u.id = e.reviewer_id
            where i.dataset_id = @datasetId and not e.adjudication and e.verdict <> 'unreviewed'
            group by u.name
            order by count(*) desc, u.name;

            select distinct on (e.item_id, e.reviewer_id) e.item_id, u.name as reviewer, e.verdict
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join users u on u.id = e.reviewer_id
            where i.dataset_id = @datasetId and not e.adjudication
            order by e.item_id, e.reviewer_id, e.id desc;

            select count(*) filter (where e.created_at >= date_trunc('day', now())) as today, count(*) as total
            from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            where i.dataset_id = @datasetId and e.reviewer_id = @me and not e.adjudication and e.verdict <> 'unreviewed';
            """,
            new { datasetId, me = user.UserId() });
        var subsets = (await results.ReadAsync<SubsetProgress>()).ToList();
        var reviewers = (await results.ReadAsync<ReviewerProgress>()).ToList();
        var standing = await results.ReadAsync<StandingVerdict>();
        var mine = await results.ReadSingleAsync<(long Today, long Total)>();
        // Agreement is about decisions: a withdrawn verdict or a "don't know" is no rating.
        var agreement = Agreement.Compute(standing
            .Where(s => Verdicts.Decisive(s.Verdict))
            .GroupBy(s => s.ItemId)
            .Select(g => (IReadOnlyDictionary<string, string>)g.ToDictionary(s => s.Reviewer, s => s.Verdict)));
        return TypedResults.Ok(new ReviewProgress(dataset, row.Value.LabelVersion, row.Value.Rule, subsets, reviewers, agreement, mine.Today, mine.Total));
    }

    public static async Task<Results<Ok<HistoryEvent[]>, ProblemHttpResult>> History(NpgsqlDataSource db, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (!await connection.ExecuteScalarAsync<bool>("select exists (select 1 from images where id = @id)", new { id }))
            return Problems.NotFound($"Image {id} does not exist.");
        var events = await connection.QueryAsync<HistoryEvent>(
            """
            select e.id, 'verdict' as kind, e.created_at, coalesce(u.name, v.name) as author, e.item_id, r.wnid, e.verdict,
                   e.adjudication, null::boolean as problematic, null::text as reason, e.note, e.seconds_spent::float8 as seconds_spent,
                   e.label_version
            from verdict_events e
            join review_items r on r.id = e.item_id
            left join users u on u.id = e.reviewer_id
            left join verdict_sources v on v.id = e.source_id
            where r.image_id = @id
            union all
            select f.id, 'flag', f.created_at, coalesce(u.name, v.name), null, null, null, false, f.problematic, f.reason, f.note, null,
                   f.label_version
            from image_flag_events f
            left join users u on u.id = f.reviewer_id
            left join verdict_sources v on v.id = f.source_id
            where f.image_id = @id
            order by created_at, kind desc, id
            """,
            new { id });
        return TypedResults.Ok(events.ToArray());
    }
}
