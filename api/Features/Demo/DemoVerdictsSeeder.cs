using Dapper;
using Npgsql;
using Relabel.Api.Features.Datasets;
using Relabel.Api.Features.Labels;

namespace Relabel.Api.Features.Demo;

/// <summary>
/// The demo reviewer's verdicts on most demo items, as a careful reviewer would give them: the class drawn and the
/// second object are correct, other labels wrong, a few unclear; a few images flagged problematic. Every sixth
/// image stays unreviewed so the queue is not empty; the reviewed ones are the demo's 'annotated' scope. Runs after the demo predictions (which create most items);
/// the original label of every image is an item in any case.
/// </summary>
public sealed class DemoVerdictsSeeder(NpgsqlDataSource db, ILogger<DemoVerdictsSeeder> logger)
{
    public const string Reviewer = "demo-reviewer";

    public async Task SeedIfMissingAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        var reviewerId = await connection.QuerySingleOrDefaultAsync<long?>("select id from users where name = @Reviewer", new { Reviewer });
        if (reviewerId is null) return;
        if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from verdict_events where reviewer_id = @reviewerId)", new { reviewerId }))
            return;
        var started = System.Diagnostics.Stopwatch.StartNew();
        foreach (var slug in new[] { DemoSeeder.Validation, DemoSeeder.Shifted })
        {
            await using var transaction = await connection.BeginTransactionAsync();
            if (await DatasetHeads.LockAsync(connection, transaction, slug, HeadLock.KeyShare) is not { } dataset) continue;
            var items = (await LabelImport.EnsureOriginalItemsAsync(connection, transaction, dataset.Id)).ToLookup(i => i.FileName);

            var verdicts = new List<NewVerdict>();
            var flags = new List<NewFlag>();
            var reviewed = new List<long>();
            var images = DemoSeeder.Images(slug);
            for (var n = 0; n < images.Count; n++)
            {
                if (n % 6 == 5) continue;
                var image = images[n];
                foreach (var item in items[image.FileName])
                {
                    var verdict = item.Wnid == image.Wnid || item.Wnid == image.SecondWnid ? Verdicts.Correct
                        : n % 13 == 0 ? Verdicts.Unclear
                        : Verdicts.Wrong;
                    verdicts.Add(new NewVerdict(item.Id, verdict, "", false));
                    if (!reviewed.Contains(item.ImageId)) reviewed.Add(item.ImageId);
                }
                if (n % 97 == 3 && items[image.FileName].FirstOrDefault() is { } first)
                    flags.Add(n % 2 == 0
                        ? new NewFlag(first.ImageId, true, "drawing-or-render", "")
                        : new NewFlag(first.ImageId, true, "other", "The object is cut off at the edge."));
            }
            await LabelWriter.AppendAsync(connection, transaction, dataset.Id, dataset.ConsensusRule, LabelAuthor.Reviewer(reviewerId.Value), verdicts, flags);
            await connection.ExecuteAsync(
                "insert into review_done (reviewer_id, image_id) select @reviewerId, unnest(@reviewed) on conflict do nothing",
                new { reviewerId, reviewed = reviewed.ToArray() }, transaction);
            // The images the reviewer went through are the demo's evaluation scope, as an ICML 2020 import declares its own.
            await ImageSetsApi.ReplaceAsync(connection, transaction, dataset.Id, ImageSetsApi.Annotated,
                "The images the demo reviewer went through (the demo's evaluation scope).", "reviewed", reviewed.ToArray());
            await transaction.CommitAsync();
            logger.LogInformation("Demo verdicts for {Dataset}: {Verdicts} verdicts, {Flags} flags", slug, verdicts.Count, flags.Count);
        }
        logger.LogInformation("Demo verdicts loaded in {Seconds:F1} s", started.Elapsed.TotalSeconds);
    }
}
