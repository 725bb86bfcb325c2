using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.Logging;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Review;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Faults;

/// <summary>
/// Sixteen reviewers submit 10,000 verdicts at once, many on the same few images from the same loaded state:
/// each accepted verdict is logged exactly once, each rejected one got a 409 and left no trace, and every item's
/// state is what the consensus derives from its log.
/// </summary>
public sealed class ConcurrentReviewTests(ApiFixture fixture, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private const int Reviewers = 16;
    private const int Verdicts = 10_000;
    private const int Images = 400;
    private const int HotImages = 8;

    private static readonly string[] Choices = [Features.Labels.Verdicts.Correct, Features.Labels.Verdicts.Wrong,
        Features.Labels.Verdicts.Unclear, Features.Labels.Verdicts.DontKnow];

    private sealed record Label(long ItemId, int Version);

    private sealed record Submission(long ImageId, string[] Notes, HttpStatusCode Status);

    [Fact]
    public async Task Sixteen_reviewers_colliding_on_the_same_images_lose_no_verdict_and_log_none_twice()
    {
        var app = fixture.App;
        app.Logs.MinimumLevel = LogLevel.Warning;
        var labels = Enumerable.Range(0, Images).Select(i => ReviewTestData.Classes[i % ReviewTestData.Classes.Length]).ToArray();
        var images = await ReviewTestData.CreateDatasetAsync(app, "crowd", labels);
        // Every image gets a second candidate label from a model's top-1.
        await ReviewTestData.AddPredictionsAsync(app, "crowd", "crowd-model",
            images.Keys.ToDictionary(f => f, f => ReviewTestData.Classes[(int.Parse(f[4..]) + 2) % ReviewTestData.Classes.Length]));
        using (var admin = app.Admin())
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/datasets/crowd/consensus", new { rule = "agreement:2" })).StatusCode);
        var clients = new List<HttpClient>();
        for (var r = 0; r < Reviewers; r++) clients.Add(await app.UserAsync($"crowd-{r}", "reviewer"));
        var imageIds = images.Values.Order().ToArray();

        var reserved = 0;
        var submissions = new ConcurrentBag<Submission>();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select((client, r) => Task.Run(async () =>
        {
            var random = new Random(1000 + r);
            for (var n = 0; ; n++)
            {
                // Half the time one of a few hot images: several reviewers load the same state and submit on it.
                var imageId = random.Next(2) == 0 ? imageIds[random.Next(HotImages)] : imageIds[random.Next(imageIds.Length)];
                var image = await (await client.GetAsync($"/api/review/images/{imageId}")).JsonAsync();
                var items = image.GetProperty("labels").EnumerateArray()
                    .Select(l => new Label(l.GetProperty("itemId").GetInt64(), l.GetProperty("version").GetInt32())).ToList();
                var count = Math.Min(items.Count, Verdicts - Interlocked.Add(ref reserved, items.Count) + items.Count);
                if (count <= 0) return;
                items = items.Take(count).ToList();
                var notes = items.Select(i => $"r{r}-n{n}-i{i.ItemId}").ToArray();
                var request = new
                {
                    verdicts = items.Select((i, j) => new { itemId = i.ItemId, version = i.Version, verdict = Choices[random.Next(Choices.Length)], note = notes[j] }),
                };
                var response = await client.PostAsJsonAsync($"/api/review/images/{imageId}", request);
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
                    throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                if (response.StatusCode == HttpStatusCode.Conflict) await response.ProblemAsync(HttpStatusCode.Conflict);
                submissions.Add(new Submission(imageId, notes, response.StatusCode));
            }
        })));
        var elapsed = watch.Elapsed;
        foreach (var client in clients) client.Dispose();

        await using var connection = await app.Db.OpenConnectionAsync();
        var logged = (await connection.QueryAsync<(string Note, long Count)>(
            """
            select e.note, count(*) from verdict_events e
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'crowd' group by e.note
            """)).ToDictionary(r => r.Note, r => r.Count);
        var accepted = submissions.Where(s => s.Status == HttpStatusCode.OK).SelectMany(s => s.Notes).ToList();
        var rejected = submissions.Where(s => s.Status == HttpStatusCode.Conflict).SelectMany(s => s.Notes).ToList();
        output.WriteLine($"{submissions.Count} submissions, {accepted.Count + rejected.Count} verdicts in {elapsed.TotalSeconds:F1} s: " +
                         $"{accepted.Count} accepted, {rejected.Count} rejected with 409 " +
                         $"({submissions.Count(s => s.Status == HttpStatusCode.Conflict)} submissions)");

        Assert.Equal(Verdicts, accepted.Count + rejected.Count);
        // How many collide depends on the machine's timing, so no count is asserted: every verdict is accounted for,
        // and a collision on a stale version is a 409 deterministically in ReviewTests.
        Assert.All(accepted, note => Assert.Equal(1, logged.GetValueOrDefault(note)));
        Assert.All(rejected, note => Assert.False(logged.ContainsKey(note), $"rejected verdict {note} is in the log"));
        Assert.Equal(accepted.Count, logged.Values.Sum());

        var events = (await connection.QueryAsync<(long Id, long ItemId, long ReviewerId, string Verdict, bool Adjudication)>(
            """
            select e.id, e.item_id, e.reviewer_id, e.verdict, e.adjudication from verdict_events e
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'crowd'
            """)).ToLookup(e => e.ItemId);
        var states = await connection.QueryAsync<(long Id, string State)>(
            """
            select r.id, r.state from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'crowd'
            """);
        var mismatches = states
            .Select(s => (s.Id, s.State, Derived: Consensus.Decide(
                events[s.Id].Select(e => new VerdictEvent(e.Id, "reviewer:" + e.ReviewerId, e.Verdict, e.Adjudication)), "agreement:2")))
            .Where(s => s.State != s.Derived)
            .ToList();
        output.WriteLine($"{states.Count()} items: {string.Join(", ", states.GroupBy(s => s.State).Select(g => $"{g.Key} {g.Count()}"))}");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} items disagree with their log, e.g. {string.Join("; ", mismatches.Take(5))}");

        // Label versions are 1..N without a gap, and each is what its write changed: replaying the log version by version
        // (what a reader of an earlier version sees) changes exactly as many items at each version as its row records.
        // A version given out of commit order would apply a write before the one it read, and the counts would differ.
        var versions = (await connection.QueryAsync<(long Version, int ChangedItems)>(
            "select v.version, v.changed_items from label_versions v join datasets d on d.id = v.dataset_id where d.slug = 'crowd' order by v.version"))
            .ToList();
        Assert.NotEmpty(versions);
        Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions.Select(v => v.Version));
        var stamped = (await connection.QueryAsync<(long Id, long ItemId, long ReviewerId, string Verdict, long LabelVersion)>(
            """
            select e.id, e.item_id, e.reviewer_id, e.verdict, e.label_version from verdict_events e
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'crowd' order by e.id
            """)).ToList();
        var logs = stamped.ToLookup(e => e.ItemId);
        string StateAt(long itemId, long version) => Consensus.Decide(
            logs[itemId].Where(e => e.LabelVersion <= version).Select(e => new VerdictEvent(e.Id, "reviewer:" + e.ReviewerId, e.Verdict, false)),
            "agreement:2");
        var replayed = stamped.GroupBy(e => e.LabelVersion).ToDictionary(
            g => g.Key, g => g.Select(e => e.ItemId).Distinct().Count(item => StateAt(item, g.Key) != StateAt(item, g.Key - 1)));
        var wrong = versions.Where(v => replayed.GetValueOrDefault(v.Version) != v.ChangedItems).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} label versions disagree with the replayed log, e.g. " +
            string.Join("; ", wrong.Take(5).Select(v => $"v{v.Version}: recorded {v.ChangedItems}, replayed {replayed.GetValueOrDefault(v.Version)}")));
    }
}
