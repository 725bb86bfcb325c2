using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Review;

public static class ReviewApi
{
    public static RouteGroupBuilder MapReview(this IEndpointRouteBuilder routes)
    {
        var review = routes.MapGroup("/api/review").WithTags("Review").WithValidation().RequireAuthorization(Policies.Reviewer)
            .AfterPredictionFollowups();
        review.MapGet("/next", Next).WithName("NextReviewImage")
            .WithSummary("The next image for the caller to review, reserved for a few minutes; 204 when the queue is empty.");
        review.MapGet("/images/{id:long}", GetImage).WithName("GetReviewImage")
            .WithSummary("One image as a reviewer sees it (candidate labels, states, own verdicts), without reserving it.");
        review.MapPost("/images/{id:long}", Submit).WithName("SubmitReview")
            .WithSummary("All verdicts for one image and its optional problematic flag, in one transaction; 409 if anything changed since it was read.");
        review.MapPost("/images/{id:long}/skip", Skip).WithName("SkipReviewImage")
            .WithSummary("Skip an image, saying why: the skip is recorded and the caller's reservation of the image ends.");
        review.MapGet("/progress", Progress).WithName("ReviewProgress")
            .WithSummary("Items decided and pending by subset, reviewers' counts and speed, and agreement between reviewers.");
        review.MapPost("/items/{id:long}/adjudicate", Adjudicate).WithName("AdjudicateItem").RequireAuthorization(Policies.Admin)
            .WithSummary("An admin's final word on an item ('unreviewed' withdraws the adjudication).");

        routes.MapGet("/api/images/{id:long}/history", History).WithTags("Review").WithName("ImageHistory")
            .RequireAuthorization(Policies.SignedIn).AfterPredictionFollowups()
            .WithSummary("Every verdict and flag event of an image, oldest first.");
        routes.MapPut("/api/datasets/{slug}/consensus", SetConsensus).WithTags("Review").WithName("SetConsensusRule").WithValidation()
            .RequireAuthorization(Policies.Admin).AfterPredictionFollowups()
            .WithSummary("Set the dataset's consensus rule ('latest', 'majority' or 'agreement:N') and re-derive every item state.");
        return review;
    }

    /// <param name="dataset">Dataset slug.</param>
    /// <param name="subset">Only images whose original label is in this subset.</param>
    /// <param name="wnid">Only images whose original label is this class.</param>
    /// <param name="mode">pending (default), conflicts, or problematic (images flagged problematic).</param>
    /// <param name="skip">Image ids not to return (the one on screen, when prefetching).</param>
    public static async Task<Results<Ok<ReviewImage>, NoContent, ProblemHttpResult>> Next(
        ClaimsPrincipal user, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db, ITop1Votes votes, string dataset, string? subset = null,
        string? wnid = null, string? mode = null, [FromQuery] long[]? skip = null)
    {
        mode ??= "pending";
        if (!ReviewStore.Modes.Contains(mode)) return Problems.Unprocessable("Invalid mode", "mode", "mode: pending, conflicts or problematic.");
        await using var connection = await db.OpenConnectionAsync();
        var next = await ReviewStore.NextAsync(connection, votes, user.UserId(), dataset, subset, wnid, mode, skip ?? []);
        if (next.DatasetMissing) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        if (next.SubsetMissing) return Problems.NotFound($"Dataset '{dataset}' has no subset '{subset}'.");
        return next.Image is { } image ? TypedResults.Ok(image) : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ReviewImage>, ProblemHttpResult>> GetImage(
        ClaimsPrincipal user, [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db, ITop1Votes votes, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var image = await ReviewStore.LoadAsync(connection, votes, id, user.UserId());
        return image is null ? Problems.NotFound($"Image {id} does not exist.") : TypedResults.Ok(image);
    }

    // Two round trips: one begins, locks and reads everything the write depends on; one writes it all and commits.
    public static async Task<Results<Ok<SubmitReviewResponse>, ProblemHttpResult>> Submit(
        long id, SubmitReviewRequest request, ClaimsPrincipal user,
        [FromKeyedServices(Database.Prepared)] NpgsqlDataSource db, ITop1Votes votes)
    {
        var me = user.UserId();
        await using var connection = await db.OpenConnectionAsync();
        await using var batch = await ReviewerBatch.BeginAsync(connection, id, lockFlag: request.Flag is not null);
        if (batch is null) return Problems.NotFound($"Image {id} does not exist.");
        var foreign = request.Verdicts.Where(v => !batch.Items.ContainsKey(v.ItemId)).Select(v => v.ItemId).ToList();
        if (foreign.Count > 0)
            return Problems.Unprocessable("Unknown items", "verdicts", $"Items {string.Join(", ", foreign)} are not candidate labels of image {id}.");

        var stale = request.Verdicts.Where(v => batch.Items[v.ItemId].Version != v.Version).Select(v => v.ItemId).ToList();
        if (stale.Count > 0 || (request.Flag is not null && request.Flag.Version != batch.Flag.Version))
        {
            await batch.RollbackAsync();
            var current = await ReviewStore.LoadAsync(connection, votes, id, me);
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
        var author = LabelAuthor.Reviewer(me);
        var verdicts = request.Verdicts
            .Where(v => !string.IsNullOrEmpty(v.Note) || batch.StandingVerdict(v.ItemId, author) != v.Verdict)
            .Select(v => new NewVerdict(v.ItemId, v.Verdict, v.Note ?? "", false))
            .ToList();
        var flags = new List<NewFlag>();
        var flag = batch.Flag;
        if (request.Flag is { } f && (flag.Problematic != f.Problematic || flag.Reason != f.Reason || !string.IsNullOrEmpty(f.Note)))
            flags.Add(new NewFlag(id, f.Problematic, f.Reason, f.Note ?? ""));

        var outcome = await batch.CommitAsync(author, verdicts, flags, request.SecondsSpent, ReviewStore.SubmitDone(me, id));
        var written = outcome.Items.ToDictionary(i => i.ItemId);
        var finalItems = batch.Items.Values
            .Select(i => written.GetValueOrDefault(i.Id) ?? new ItemStateResponse(i.Id, i.State, i.Version))
            .OrderBy(i => i.ItemId).ToList();
        return TypedResults.Ok(new SubmitReviewResponse(id, outcome.Events, finalItems, outcome.Flags.GetValueOrDefault(id) ?? flag, outcome.LabelVersion));
    }

    public static async Task<Results<Ok<SkipResponse>, ProblemHttpResult>> Skip(
        long id, SkipReviewRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        // One statement: the skip is recorded only for an image that exists, and the lease ends with it.
        var skip = await connection.QuerySingleOrDefaultAsync<SkipResponse>(
            """
            with skipped as (
                insert into review_skips (reviewer_id, image_id, reason, note)
                select @me, i.id, @Reason, coalesce(@Note::text, '') from images i where i.id = @id
                returning id, image_id, reason, note, created_at
            ), released as (
                delete from review_leases l using skipped s where l.image_id = s.image_id and l.reviewer_id = @me
            )
            select id, image_id, reason, note, created_at from skipped
            """,
            new { id, me = user.UserId(), request.Reason, request.Note });
        return skip is null ? Problems.NotFound($"Image {id} does not exist.") : TypedResults.Ok(skip);
    }

    public static async Task<Results<Ok<ItemStateResponse>, ProblemHttpResult>> Adjudicate(
        long id, AdjudicateRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var dataset = await DatasetHeads.LockOfItemAsync(connection, transaction, id);
        if (dataset is null) return Problems.NotFound($"Review item {id} does not exist.");
        var item = await ReviewStore.LockItemAsync(connection, transaction, id);
        if (item.Version != request.Version)
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The item changed since you loaded it",
                Detail = $"Item {id} is at version {item.Version}, not {request.Version}; nothing was written.",
                Extensions = { ["current"] = item },
            });
        var outcome = await LabelWriter.AppendAsync(connection, transaction, dataset.Id, dataset.ConsensusRule, LabelAuthor.Reviewer(user.UserId()),
            [new NewVerdict(id, request.Verdict, request.Note ?? "", true)], []);
        await transaction.CommitAsync();
        return TypedResults.Ok(outcome.Items.Single());
    }

    public static async Task<Results<Ok<ConsensusResponse>, ProblemHttpResult>> SetConsensus(
        string slug, ConsensusRequest request, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (await LabelWriter.ChangeRuleAsync(connection, transaction, slug, request.Rule) is not { } rederived)
            return Problems.NotFound($"Dataset '{slug}' does not exist.");
        await transaction.CommitAsync();
        return TypedResults.Ok(new ConsensusResponse(slug, request.Rule, rederived.Changed, rederived.LabelVersion));
    }

    /// <param name="dataset">Dataset slug.</param>
    public static async Task<Results<Ok<ReviewProgress>, ProblemHttpResult>> Progress(ClaimsPrincipal user, NpgsqlDataSource db, string dataset)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, dataset) is not { } head) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        return TypedResults.Ok(await ReviewStore.ProgressAsync(connection, head, dataset, user.UserId()));
    }

    public static async Task<Results<Ok<HistoryEvent[]>, ProblemHttpResult>> History(NpgsqlDataSource db, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await ReviewStore.HistoryAsync(connection, id) is { } events ? TypedResults.Ok(events) : Problems.NotFound($"Image {id} does not exist.");
    }
}
