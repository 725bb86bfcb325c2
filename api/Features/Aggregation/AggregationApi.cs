using System.Security.Claims;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Aggregation;

public sealed record AggregateRequest(double? Threshold, bool? Apply);

public sealed class AggregateRequestValidator : AbstractValidator<AggregateRequest>
{
    public AggregateRequestValidator() =>
        RuleFor(r => r.Threshold).ExclusiveBetween(0.5, 1.0).When(r => r.Threshold is not null)
            .WithMessage("threshold: above 0.5 and below 1 (correct at or above it, wrong at or below 1 - threshold).");
}

public sealed record RaterQuality(
    string Rater, string Kind, int Votes, int ControlVotes, double? ControlAccuracy, double? ConsensusAgreement, JsonElement Confusion);

/// <summary>How the aggregated label sets compare with the dataset's reference multi-labels (ReaL), where it has them.</summary>
public sealed record ReferenceComparison(int Images, int IdenticalSets, double IdenticalShare, double Precision, double Recall);

public sealed record AggregationResponse(
    string Dataset, string Method, double Threshold, int Iterations, bool Converged, double Prior, long Votes,
    int Questions, int Correct, int Wrong, int Unclear, DateTimeOffset ComputedAt,
    IReadOnlyList<RaterQuality> Raters, ReferenceComparison? Reference);

/// <summary>
/// Dawid-Skene aggregation of every external rater's standing vote (kind 'rater'), run as a job. The posteriors
/// and each rater's confusion matrix are stored; with apply=true each item's outcome also becomes an adjudication
/// event of the source 'dawid-skene', the final word under every consensus rule (and a new label version).
/// </summary>
public static class AggregationApi
{
    public const double DefaultThreshold = 0.9;
    private static readonly string[] Answers = [Verdicts.Wrong, Verdicts.Unclear, Verdicts.Correct];

    public static void MapAggregation(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/datasets/{slug}/aggregation").WithTags("Interop").WithValidation().AfterPredictionFollowups();
        group.MapPost("/", Start).WithName("AggregateVotes").RequireAuthorization(Policies.Admin)
            .WithSummary("Run Dawid-Skene over the external raters' votes (a job); apply=true makes the outcomes the dataset's labels.");
        group.MapGet("/", Get).WithName("GetAggregation")
            .WithSummary("The latest aggregation: convergence, outcome counts, each rater's accuracy on control questions and agreement with the consensus, and the comparison with reference labels.");
    }

    public static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> Start(
        string slug, AggregateRequest request, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var threshold = request.Threshold ?? DefaultThreshold;
        var jobId = await jobs.EnqueueAsync("aggregate-dawid-skene", dataset.Id, user.UserId(), 0,
            job => RunAsync(job, dataset.Id, threshold, request.Apply ?? false));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, "queued", $"/api/jobs/{jobId}"));
    }

    private static async Task<object> RunAsync(JobContext job, long datasetId, double threshold, bool apply)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await job.Db.OpenConnectionAsync();
        await job.ReportAsync(0, 3, "reading votes", force: true);

        // Each rater's standing vote per item: their latest, unless withdrawn.
        var itemIndex = new Dictionary<long, int>();
        var items = new List<long>();
        var raterIndex = new Dictionary<long, int>();
        var raters = new List<long>();
        var votes = new List<Vote>();
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"""
             copy (
                 select item_id, source_id, verdict from (
                     select distinct on (e.item_id, e.source_id) e.item_id, e.source_id, e.verdict
                     from verdict_events e
                     join verdict_sources s on s.id = e.source_id and s.kind = 'rater'
                     join review_items r on r.id = e.item_id
                     join images i on i.id = r.image_id
                     where i.dataset_id = {datasetId} and not e.adjudication
                     order by e.item_id, e.source_id, e.id desc
                 ) standing
                 where verdict in ('correct', 'wrong', 'unclear')
             ) to stdout (format binary)
             """))
            while (await reader.StartRowAsync() != -1)
            {
                var item = await reader.ReadAsync<long>(NpgsqlDbType.Bigint);
                var source = await reader.ReadAsync<long>(NpgsqlDbType.Bigint);
                var verdict = await reader.ReadAsync<string>(NpgsqlDbType.Text);
                if (!itemIndex.TryGetValue(item, out var q)) { itemIndex[item] = q = items.Count; items.Add(item); }
                if (!raterIndex.TryGetValue(source, out var r)) { raterIndex[source] = r = raters.Count; raters.Add(source); }
                votes.Add(new Vote(q, r, Array.IndexOf(Answers, verdict)));
            }
        if (votes.Count == 0) throw new JobFailedException("The dataset has no votes of external raters to aggregate.");

        await job.ReportAsync(1, 3, $"Dawid-Skene over {votes.Count} votes", force: true);
        var result = DawidSkene.Run(votes, items.Count, raters.Count, Answers.Length);
        var outcomes = result.Posterior.Select(p => DawidSkene.Classify(p, threshold)).ToArray();

        // Expert answers on control questions, to grade each rater.
        var expert = (await connection.QueryAsync<(long ItemId, string Verdict)>(
            """
            select distinct on (e.item_id) e.item_id, e.verdict
            from verdict_events e
            join verdict_sources s on s.id = e.source_id and s.kind = 'expert'
            join review_items r on r.id = e.item_id and r.control
            join images i on i.id = r.image_id
            where i.dataset_id = @datasetId
            order by e.item_id, e.id desc
            """,
            new { datasetId })).ToDictionary(e => e.ItemId, e => e.Verdict);

        await job.ReportAsync(2, 3, "storing results", force: true);
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            """
            delete from aggregated_items where dataset_id = @datasetId;
            delete from rater_quality where dataset_id = @datasetId;
            insert into aggregations (dataset_id, method, threshold, iterations, converged, prior, votes)
            values (@datasetId, 'dawid-skene', @threshold, @Iterations, @Converged, @Prior, @votes)
            on conflict (dataset_id) do update
            set threshold = excluded.threshold, iterations = excluded.iterations, converged = excluded.converged,
                prior = excluded.prior, votes = excluded.votes, computed_at = now()
            """,
            new { datasetId, threshold, result.Iterations, result.Converged, result.Prior, votes = votes.Count }, transaction);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy aggregated_items (dataset_id, item_id, probability, outcome) from stdin (format binary)"))
        {
            for (var q = 0; q < items.Count; q++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(datasetId, NpgsqlDbType.Bigint);
                await copy.WriteAsync(items[q], NpgsqlDbType.Bigint);
                await copy.WriteAsync(result.Posterior[q], NpgsqlDbType.Double);
                await copy.WriteAsync(outcomes[q], NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
        }
        for (var r = 0; r < raters.Count; r++)
        {
            var own = votes.Where(v => v.Rater == r).ToList();
            var controls = own.Where(v => expert.ContainsKey(items[v.Question])).ToList();
            await connection.ExecuteAsync(
                """
                insert into rater_quality (dataset_id, source_id, votes, control_votes, control_accuracy, consensus_agreement, confusion)
                values (@datasetId, @sourceId, @votes, @controlVotes, @controlAccuracy, @agreement, @confusion::jsonb)
                """,
                new
                {
                    datasetId,
                    sourceId = raters[r],
                    votes = own.Count,
                    controlVotes = controls.Count,
                    controlAccuracy = controls.Count == 0 ? (double?)null
                        : controls.Count(v => Answers[v.Answer] == expert[items[v.Question]]) / (double)controls.Count,
                    agreement = own.Count(v => Answers[v.Answer] == outcomes[v.Question]) / (double)own.Count,
                    confusion = JsonSerializer.Serialize(new
                    {
                        wrong = Answers.Select((a, i) => (a, result.Confusion[r][0][i])).ToDictionary(x => x.a, x => Math.Round(x.Item2, 4)),
                        correct = Answers.Select((a, i) => (a, result.Confusion[r][1][i])).ToDictionary(x => x.a, x => Math.Round(x.Item2, 4)),
                    }),
                },
                transaction);
        }

        var changed = 0;
        if (apply)
        {
            var rule = (await DatasetHeads.LockAsync(connection, transaction, datasetId, HeadLock.KeyShare))?.ConsensusRule ?? Consensus.Latest;
            var sourceId = await LabelImport.SourceAsync(connection, transaction, "dawid-skene", "import",
                "Labels aggregated from external raters' votes by Dawid-Skene.");
            var current = (await connection.QueryAsync<(long Id, string State)>(
                "select id, state from review_items where id = any(@items) for update", new { items = items.ToArray() }, transaction))
                .ToDictionary(i => i.Id, i => i.State);
            var verdicts = items.Select((id, q) => (id, outcome: outcomes[q]))
                .Where(x => current[x.id] != x.outcome)
                .Select(x => new NewVerdict(x.id, x.outcome, $"Dawid-Skene, threshold {threshold}", true))
                .ToList();
            if (verdicts.Count > 0)
                changed = (await LabelWriter.AppendAsync(connection, transaction, datasetId, rule, LabelAuthor.Source(sourceId), verdicts, [])).ChangedItems;
        }
        await transaction.CommitAsync();
        return new
        {
            votes = votes.Count, questions = items.Count, raters = raters.Count, result.Iterations, result.Converged,
            correct = outcomes.Count(o => o == "correct"), wrong = outcomes.Count(o => o == "wrong"), unclear = outcomes.Count(o => o == "unclear"),
            appliedChanges = changed, seconds = Math.Round(started.Elapsed.TotalSeconds, 2),
        };
    }

    private sealed record Summary(string Method, double Threshold, int Iterations, bool Converged, double Prior, long Votes, DateTime ComputedAt);

    private sealed record QualityRow(string Rater, string Kind, int Votes, int ControlVotes, double? ControlAccuracy, double? ConsensusAgreement, string Confusion);

    public static async Task<Results<Ok<AggregationResponse>, ProblemHttpResult>> Get(string slug, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var summary = await connection.QuerySingleOrDefaultAsync<Summary>(
            "select method, threshold, iterations, converged, prior, votes, computed_at from aggregations where dataset_id = @Id", new { dataset.Id });
        if (summary is null) return Problems.NotFound($"Dataset '{slug}' has not been aggregated yet: POST /api/datasets/{slug}/aggregation.");
        var counts = (await connection.QueryAsync<(string Outcome, int Count)>(
            "select outcome, count(*)::int from aggregated_items where dataset_id = @Id group by outcome", new { dataset.Id }))
            .ToDictionary(c => c.Outcome, c => c.Count);
        var raters = (await connection.QueryAsync<QualityRow>(
            """
            select s.name as rater, s.kind, q.votes, q.control_votes, q.control_accuracy, q.consensus_agreement, q.confusion::text as confusion
            from rater_quality q join verdict_sources s on s.id = q.source_id
            where q.dataset_id = @Id
            order by q.control_accuracy desc nulls last, s.name
            """,
            new { dataset.Id }))
            .Select(r => new RaterQuality(r.Rater, r.Kind, r.Votes, r.ControlVotes, r.ControlAccuracy, r.ConsensusAgreement,
                JsonDocument.Parse(r.Confusion).RootElement.Clone()))
            .ToList();

        // Per image: the aggregated correct labels against the reference set, over images that were voted on.
        var pairs = await connection.QueryAsync<(long ImageId, string[] Ours, string[] Reference)>(
            """
            with ours as (
                select r.image_id, array_agg(r.wnid) filter (where a.outcome = 'correct') as wnids
                from aggregated_items a join review_items r on r.id = a.item_id
                where a.dataset_id = @Id
                group by r.image_id
            )
            select o.image_id, coalesce(o.wnids, '{}'), array(
                select c.wnid from unnest(ref.class_indices) as x(idx)
                join label_space_classes c on c.label_space_id = @LabelSpaceId and c.class_index = x.idx)
            from ours o join dataset_reference_labels ref on ref.dataset_id = @Id and ref.image_id = o.image_id
            """,
            new { dataset.Id, dataset.LabelSpaceId });
        ReferenceComparison? reference = null;
        var list = pairs.ToList();
        if (list.Count > 0)
        {
            int identical = 0, truePositive = 0, falsePositive = 0, falseNegative = 0;
            foreach (var (_, ours, theirs) in list)
            {
                var expected = theirs.ToHashSet();
                if (expected.SetEquals(ours)) identical++;
                truePositive += ours.Count(expected.Contains);
                falsePositive += ours.Count(w => !expected.Contains(w));
                falseNegative += expected.Count(w => !ours.Contains(w));
            }
            reference = new ReferenceComparison(list.Count, identical, (double)identical / list.Count,
                truePositive + falsePositive == 0 ? 0 : (double)truePositive / (truePositive + falsePositive),
                truePositive + falseNegative == 0 ? 0 : (double)truePositive / (truePositive + falseNegative));
        }
        return TypedResults.Ok(new AggregationResponse(slug, summary.Method, summary.Threshold, summary.Iterations, summary.Converged,
            summary.Prior, summary.Votes, counts.Values.Sum(), counts.GetValueOrDefault("correct"), counts.GetValueOrDefault("wrong"),
            counts.GetValueOrDefault("unclear"), new DateTimeOffset(summary.ComputedAt), raters, reference));
    }
}
