using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>The labels of one subset's images in the scope, as the review left them.</summary>
/// <param name="Reviewed">Images with at least one decided label.</param>
/// <param name="WithCorrectLabel">Images with at least one label decided correct.</param>
/// <param name="MultipleCorrect">Images with two or more labels decided correct.</param>
/// <param name="MultipleCorrectShare">MultipleCorrect / WithCorrectLabel.</param>
/// <param name="OriginalCorrect">Images whose original label was decided correct.</param>
/// <param name="OriginalWrong">Images whose original label was decided wrong (the review changed the label).</param>
/// <param name="OtherCorrect">Images with a correct label other than the original one (the review added a label).</param>
public sealed record SubsetStatistics(
    string Subset, long Images, long Reviewed, long WithCorrectLabel, long MultipleCorrect, double? MultipleCorrectShare,
    long OriginalCorrect, long OriginalWrong, long OtherCorrect, long Problematic, Dictionary<string, long> ProblematicByReason);

/// <summary>
/// How much authors agree on the items two or more of them judged (their standing decisive verdicts): the observed
/// agreement (the share of agreeing pairs of verdicts on an item, averaged over items) and Fleiss' kappa.
/// </summary>
public sealed record AgreementSummary(long Items, long Verdicts, long Authors, double? ObservedAgreement, double? FleissKappa);

public sealed record DatasetStatisticsResponse(
    string Dataset, string? ImageSet, long LabelVersion, string ConsensusRule, bool OriginalWrongIsProblematic, long? WrongOriginalImages,
    SubsetStatistics[] Subsets, AgreementSummary Agreement, string Description);

/// <summary>GET /api/datasets/{slug}/statistics: what the review found in a dataset.</summary>
public static class StatisticsApi
{
    public static void MapStatistics(this RouteGroupBuilder group) =>
        group.MapGet("/datasets/{slug}/statistics", Get).WithName("GetDatasetStatistics")
            .WithSummary("What the review found: images with more than one correct label, problematic images by reason and subset, labels the review changed relative to the original, agreement between authors.");

    private sealed record ClassRow
    {
        public required string Wnid { get; init; }
        public required long Images { get; init; }
        public required long Reviewed { get; init; }
        public required long WithCorrect { get; init; }
        public required long Multiple { get; init; }
        public required long OriginalCorrect { get; init; }
        public required long OriginalWrong { get; init; }
        public required long OtherCorrect { get; init; }
    }

    /// <param name="slug">Dataset slug.</param>
    /// <param name="imageSet">The scope, as for the leaderboard (default: the dataset's 'annotated' set, else every image; 'all').</param>
    public static async Task<Results<Ok<DatasetStatisticsResponse>, ProblemHttpResult>> Get(LeaderboardService service, string slug, string? imageSet = null)
    {
        await using var connection = await service.Db.OpenConnectionAsync();
        var head = await service.Store.HeadAsync(connection, slug);
        if (head is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var data = await service.Store.DataAsync(connection, head);
        var (scope, missing) = await LeaderboardApi.ScopeAsync(connection, service, head, data, imageSet);
        if (missing is not null) return missing;
        long? setId = scope!.Name is null ? null
            : await connection.ExecuteScalarAsync<long>("select id from image_sets where dataset_id = @Id and name = @Name", new { head.Id, scope.Name });
        const string InScope = "(@setId::bigint is null or exists (select 1 from image_set_members m where m.image_set_id = @setId and m.image_id = i.id))";
        var classes = (await connection.QueryAsync<ClassRow>(
            $"""
             with per_image as (
                 select i.id, i.original_wnid,
                        count(r.id) filter (where r.state in ('correct', 'wrong', 'unclear')) as decided,
                        count(r.id) filter (where r.state = 'correct') as correct,
                        coalesce(bool_or(r.wnid = i.original_wnid and r.state = 'correct'), false) as original_correct,
                        coalesce(bool_or(r.wnid = i.original_wnid and r.state = 'wrong'), false) as original_wrong,
                        coalesce(bool_or(r.wnid <> i.original_wnid and r.state = 'correct'), false) as other_correct
                 from images i left join review_items r on r.image_id = i.id
                 where i.dataset_id = @Id and {InScope}
                 group by i.id
             )
             select original_wnid as wnid, count(*) as images, count(*) filter (where decided > 0) as reviewed,
                    count(*) filter (where correct >= 1) as with_correct, count(*) filter (where correct >= 2) as multiple,
                    count(*) filter (where original_correct) as original_correct, count(*) filter (where original_wrong) as original_wrong,
                    count(*) filter (where other_correct) as other_correct
             from per_image group by original_wnid
             """,
            new { head.Id, setId })).ToList();
        var problematic = (await connection.QueryAsync<(string Wnid, string Reason, long Images)>(
            $"""
             select i.original_wnid, coalesce(s.reason, 'other'), count(*)
             from image_states s join images i on i.id = s.image_id
             where i.dataset_id = @Id and s.problematic and {InScope}
             group by 1, 2
             """,
            new { head.Id, setId })).ToList();
        var agreement = await connection.QuerySingleAsync<(long Items, long Verdicts, long Authors, long Correct, long Wrong, long Unclear, double? Observed)>(
            $"""
             with standing as (
                 select distinct on (e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id))
                        e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id) as author, e.verdict
                 from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                 where i.dataset_id = @Id and not e.adjudication and {InScope}
                 order by e.item_id, coalesce('u' || e.reviewer_id, 's' || e.source_id), e.id desc
             ), decisive as (
                 select item_id, author, verdict from standing where verdict in ('correct', 'wrong', 'unclear')
             ), items as (
                 select item_id, count(*) as n, count(*) filter (where verdict = 'correct') as c,
                        count(*) filter (where verdict = 'wrong') as w, count(*) filter (where verdict = 'unclear') as u
                 from decisive group by item_id having count(*) >= 2
             )
             select count(*), coalesce(sum(n), 0)::bigint,
                    (select count(distinct author) from decisive where item_id in (select item_id from items)),
                    coalesce(sum(c), 0)::bigint, coalesce(sum(w), 0)::bigint, coalesce(sum(u), 0)::bigint,
                    avg((c * c + w * w + u * u - n)::float8 / (n * (n - 1)))
             from items
             """,
            new { head.Id, setId });

        var labels = await service.Store.LabelsAsync(connection, head, data, head.LabelVersion);
        var subsets = data.Subsets.Select(s =>
        {
            bool In(string wnid) => data.ClassOf.TryGetValue(wnid, out var c) && s.Classes[c];
            var rows = classes.Where(c => In(c.Wnid)).ToList();
            long withCorrect = rows.Sum(r => r.WithCorrect), multiple = rows.Sum(r => r.Multiple);
            var reasons = problematic.Where(p => In(p.Wnid)).GroupBy(p => p.Reason).ToDictionary(g => g.Key, g => g.Sum(p => p.Images));
            return new SubsetStatistics(s.Name, rows.Sum(r => r.Images), rows.Sum(r => r.Reviewed), withCorrect, multiple,
                withCorrect == 0 ? null : (double)multiple / withCorrect,
                rows.Sum(r => r.OriginalCorrect), rows.Sum(r => r.OriginalWrong), rows.Sum(r => r.OtherCorrect), reasons.Values.Sum(), reasons);
        }).ToArray();

        double? kappa = null;
        if (agreement.Verdicts > 0 && agreement.Observed is { } observed)
        {
            var expected = new[] { agreement.Correct, agreement.Wrong, agreement.Unclear }.Sum(k => Math.Pow((double)k / agreement.Verdicts, 2));
            kappa = expected >= 1 ? null : (observed - expected) / (1 - expected);
        }
        return TypedResults.Ok(new DatasetStatisticsResponse(head.Slug, scope.Name, head.LabelVersion, head.ConsensusRule,
            head.OriginalWrongIsProblematic, head.OriginalWrongIsProblematic ? labels.WrongOriginals : null, subsets,
            new AgreementSummary(agreement.Items, agreement.Verdicts, agreement.Authors, agreement.Observed, kappa),
            "Counts over the images of the scope, by the subset of each image's original class, at the current label version. " +
            "Problematic: images flagged by reviewers (their latest flag), by reason. Agreement: the standing correct/wrong/unclear " +
            "verdicts of every author (reviewer or imported rater) on items with two or more; Fleiss' kappa (Fleiss 1971)."));
    }
}
