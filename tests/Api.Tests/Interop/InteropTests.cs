using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Interop;

public sealed class InteropTests(ApiFixture fixture, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02086240", "n02690373"];

    private async Task<HttpClient> DatasetAsync(string slug, int images)
    {
        var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        var csv = string.Join("\n", Enumerable.Range(1, images).Select(i => $"img_{i:D4}.JPEG,{i % Classes.Length}"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(csv, Encoding.UTF8, "text/csv"))).StatusCode);
        return admin;
    }

    internal static async Task<JsonElement> WaitForJobAsync(HttpClient client, HttpResponseMessage accepted)
    {
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = (await accepted.JsonAsync()).GetProperty("location").GetString()!;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var response = await client.GetAsync(location);
            Assert.True(response.IsSuccessStatusCode, $"GET {location}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var job = await response.JsonAsync();
            var status = job.GetProperty("status").GetString();
            if (status == "succeeded") return job;
            Assert.True(status != "failed", job.ToString());
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(3), "job did not finish: " + job);
            await Task.Delay(100);
        }
    }

    private async Task<long> EventsAsync(string slug)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            select (select count(*) from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                    join datasets d on d.id = i.dataset_id where d.slug = @slug)
                 + (select count(*) from image_flag_events f join images i on i.id = f.image_id join datasets d on d.id = i.dataset_id where d.slug = @slug)
            """,
            new { slug });
    }

    private static JsonObject Release(int images)
    {
        var annots = new JsonObject();
        for (var i = 1; i <= images; i++)
        {
            var original = Classes[i % Classes.Length];
            var other = Classes[(i + 1) % Classes.Length];
            annots[$"img_{i:D4}.JPEG"] = new JsonObject
            {
                ["correct"] = new JsonArray(original),
                ["wrong"] = i % 3 == 0 ? new JsonArray() : new JsonArray(other),
                ["unclear"] = i % 4 == 0 ? new JsonArray(Classes[(i + 2) % Classes.Length]) : new JsonArray(),
            };
        }
        return new JsonObject
        {
            ["initial_annots"] = annots,
            ["problematic_images"] = new JsonObject
            {
                ["img_0002.JPEG"] = new JsonObject { ["reason"] = "drawing-or-render", ["reviewer"] = "vs", ["time_marked"] = "2019-06-01T10:00:00" },
                ["img_0005.JPEG"] = new JsonObject { ["reason"] = "watermark over the object", ["reviewer"] = "rr", ["time_marked"] = "2019-06-02T11:00:00" },
            },
            ["imagenet_m"] = new JsonArray("img_0003.JPEG", "img_0007.JPEG"),
        };
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_multilabel_release_round_trips_and_re_importing_it_is_a_no_op()
    {
        using var admin = await DatasetAsync("ml-roundtrip", 40);
        var release = Release(40);
        var job = await WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/ml-roundtrip/import/multilabel?source=icml2020", Json(release)));
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.True(job.GetProperty("result").GetProperty("labelVersion").GetInt64() >= 1);

        var exported = JsonNode.Parse(await fixture.App.Anonymous().GetStringAsync("/api/datasets/ml-roundtrip/export/multilabel"))!;
        // Same content: compare both in canonical (sorted) form.
        static string Canonical(JsonNode node) => JsonSerializer.Serialize(Sort(node));
        static JsonNode? Sort(JsonNode? node) => node switch
        {
            JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sort(p.Value)))),
            JsonArray a => new JsonArray(a.Select(v => Sort(v)).OrderBy(v => v?.ToJsonString(), StringComparer.Ordinal).ToArray()),
            _ => node?.DeepClone(),
        };
        Assert.Equal(Canonical(release), Canonical(exported));

        var events = await EventsAsync("ml-roundtrip");
        var again = await admin.PostAsync("/api/datasets/ml-roundtrip/import/multilabel?source=icml2020", Json(release));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("unchanged", (await again.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(events, await EventsAsync("ml-roundtrip"));

        // Provenance: the dataset's events are attributed to the import source, and only to it.
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal(["import:icml2020"], (await connection.QueryAsync<string>(
            """
            select distinct coalesce(s.name, 'reviewer ' || e.reviewer_id) from verdict_events e
            left join verdict_sources s on s.id = e.source_id
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'ml-roundtrip'
            """)).ToArray());
    }

    [Fact]
    public async Task Bad_releases_are_refused_whole_and_nothing_is_written()
    {
        using var admin = await DatasetAsync("ml-bad", 10);
        await (await admin.PostAsync("/api/datasets/ml-bad/import/multilabel", new StringContent("{\"initial_annots\": {", Encoding.UTF8, "application/json")))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var bad = Release(10);
        bad["initial_annots"]!["no_such.JPEG"] = new JsonObject { ["correct"] = new JsonArray("n01440764") };
        bad["initial_annots"]!["img_0001.JPEG"]!["wrong"] = new JsonArray("n99999999", "n02085620");
        bad["initial_annots"]!["img_0004.JPEG"] = new JsonObject { ["correct"] = new JsonArray("n02085620"), ["wrong"] = new JsonArray("n02085620") };
        var problem = await (await admin.PostAsync("/api/datasets/ml-bad/import/multilabel", Json(bad))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var messages = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        Assert.Contains(messages, m => m.Contains("no_such.JPEG"));
        Assert.Contains(messages, m => m.Contains("n99999999"));
        Assert.Contains(messages, m => m.Contains("more than once"));
        await (await admin.PostAsync("/api/datasets/ml-bad/import/multilabel", new StringContent("x", Encoding.UTF8, "text/plain")))
            .ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        using var reviewer = await fixture.App.UserAsync("interop-reviewer", "reviewer");
        await (await reviewer.PostAsync("/api/datasets/ml-bad/import/multilabel", Json(Release(10)))).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(0, await EventsAsync("ml-bad"));
    }

    [Fact]
    public async Task Rater_votes_with_bad_rows_are_refused_with_their_lines()
    {
        using var admin = await DatasetAsync("votes-bad", 10);
        var csv = "file_name,wnid,rater,answer\n" +
                  "img_0001.JPEG,n01440764,7,yes\n" +
                  "img_0001.JPEG,n01440764,7,yes\n" +   // identical duplicate: one vote
                  "img_0001.JPEG,n01440764,7,no\n" +    // conflicting duplicate
                  "img_0099.JPEG,n01440764,7,yes\n" +   // unknown image
                  "img_0002.JPEG,n09999999,7,yes\n" +   // unknown class
                  "img_0003.JPEG,n01440764,8,perhaps\n";
        var problem = await (await admin.PostAsync("/api/datasets/votes-bad/import/rater-votes", new StringContent(csv, Encoding.UTF8, "text/csv")))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var lines = problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt64(), e.GetProperty("field").GetString())).ToList();
        Assert.Equal([(4L, "answer"), (5L, "file_name"), (6L, "wnid"), (7L, "answer")], lines);
        Assert.Equal(0, await EventsAsync("votes-bad"));
    }

    private Task AssertStatesFollowFromEventsAsync(string slug) => AssertStatesFollowFromEventsAsync(fixture.App.Db, slug);

    /// <summary>Every item's stored state is what the consensus rule derives from its events, in id order.</summary>
    internal static async Task AssertStatesFollowFromEventsAsync(Npgsql.NpgsqlDataSource db, string slug)
    {
        await using var connection = await db.OpenConnectionAsync();
        var events = (await connection.QueryAsync<(long ItemId, long Id, string Author, string Verdict, bool Adjudication)>(
            """
            select e.item_id, e.id, coalesce('u' || e.reviewer_id, 's' || e.source_id), e.verdict, e.adjudication
            from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            join datasets d on d.id = i.dataset_id where d.slug = @slug
            """,
            new { slug })).ToLookup(e => e.ItemId);
        var states = await connection.QueryAsync<(long Id, string State, string Rule)>(
            """
            select r.id, r.state, d.consensus_rule from review_items r join images i on i.id = r.image_id
            join datasets d on d.id = i.dataset_id where d.slug = @slug
            """,
            new { slug });
        var mismatches = states.Count(s => s.State != Relabel.Api.Features.Labels.Consensus.Decide(
            events[s.Id].Select(e => new Relabel.Api.Features.Labels.VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)), s.Rule));
        Assert.Equal(0, mismatches);
    }

    /// <summary>
    /// Per voted image, the labels the rule decided correct against real.json's set (computed here from the shared files):
    /// the share that are identical must reach the floor. Under the latest verdict about half did.
    /// </summary>
    private async Task AssertLabelSetsMatchRealAsync(string slug, double floor, ITestOutputHelper log)
    {
        var classes = TestData.IlsvrcClasses();
        var real = JsonSerializer.Deserialize<int[][]>(await File.ReadAllTextAsync(Path.Combine(TestData.SharedData, "real", "real.json")))!;
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var decided = (await connection.QueryAsync<(string FileName, string[] Correct)>(
            """
            select i.file_name, coalesce(array_agg(r.wnid) filter (where r.state = 'correct'), '{}')
            from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = @slug and exists (select 1 from verdict_events e where e.item_id = r.id)
            group by i.file_name
            """, new { slug })).ToList();
        var identical = decided.Count(d =>
            real[int.Parse(d.FileName["ILSVRC2012_val_".Length..][..8]) - 1].Select(c => classes[c]).ToHashSet().SetEquals(d.Correct));
        var share = (double)identical / decided.Count;
        log.WriteLine($"label sets identical to real.json under the majority rule: {identical} of {decided.Count} voted images ({share:P1})");
        Assert.Equal(24_889, decided.Count);
        Assert.True(share >= floor, $"{share:P1} of the voted images' label sets match real.json; the floor is {floor:P0}.");
    }

    [Fact]
    public async Task The_real_rater_votes_import_by_COPY_and_golden_answers_mark_control_questions()
    {
        var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "real-votes", TestData.IlsvrcClasses());
        var labels = File.ReadAllLines(Path.Combine(TestData.SharedData, "ilsvrc2012", "val_labels.txt"));
        var manifest = string.Join("\n", labels.Select((w, i) => $"ILSVRC2012_val_{i + 1:D8}.JPEG,{w}"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/real-votes/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);

        async Task<JsonElement> ImportAsync(string file, bool golden)
        {
            var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(TestData.SharedData, "real", file)));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            content.Headers.ContentEncoding.Add("gzip");
            var watch = Stopwatch.StartNew();
            var job = await WaitForJobAsync(admin, await admin.PostAsync($"/api/datasets/real-votes/import/rater-votes?golden={golden}", content));
            output.WriteLine($"{file}: {watch.Elapsed.TotalSeconds:F1} s, {job.GetProperty("result")}");
            return job.GetProperty("result");
        }

        var votes = await ImportAsync("rater_votes.csv.gz", golden: false);
        Assert.Equal(924_810, votes.GetProperty("votes").GetInt32());
        Assert.Equal(184_962, votes.GetProperty("questions").GetInt32());
        Assert.Equal(85, votes.GetProperty("raters").GetInt32());
        // The dataset decided by the latest verdict: crowd votes switched it to the majority rule.
        Assert.Equal("majority", votes.GetProperty("rule").GetString());
        Assert.Equal("latest", votes.GetProperty("ruleChangedFrom").GetString());
        await AssertStatesFollowFromEventsAsync("real-votes");
        await AssertLabelSetsMatchRealAsync("real-votes", floor: 0.65, output);
        var golden = await ImportAsync("golden_votes.csv.gz", golden: true);

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var (events, controls, sources) = await connection.QuerySingleAsync<(long, long, long)>(
            """
            select count(*), count(distinct r.id) filter (where r.control),
                   count(distinct e.source_id) filter (where s.kind = 'rater')
            from verdict_events e left join verdict_sources s on s.id = e.source_id
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            join datasets d on d.id = i.dataset_id where d.slug = 'real-votes'
            """);
        Assert.Equal(924_810 + golden.GetProperty("votes").GetInt32(), events);
        Assert.Equal(golden.GetProperty("questions").GetInt32(), controls);
        Assert.Equal(85, sources);

        var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(TestData.SharedData, "real", "rater_votes.csv.gz")));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Headers.ContentEncoding.Add("gzip");
        var again = await admin.PostAsync("/api/datasets/real-votes/import/rater-votes", content);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(events, await EventsAsync("real-votes"));

        // The crowd raters' answers to the control questions, then the ReaL reference labels (exported back unchanged).
        await ImportAsync("rater_golden_votes.csv.gz", golden: false);
        var realJson = await File.ReadAllTextAsync(Path.Combine(TestData.SharedData, "real", "real.json"));
        Assert.True((await admin.PutAsync("/api/datasets/real-votes/reference-labels", new StringContent(realJson, Encoding.UTF8, "application/json"))).IsSuccessStatusCode);
        var exported = await fixture.App.Anonymous().GetStringAsync("/api/datasets/real-votes/export/real");
        Assert.Equal(JsonSerializer.Deserialize<int[][]>(realJson), JsonSerializer.Deserialize<int[][]>(exported));

        // Dawid-Skene over all crowd votes, compared with ReaL.
        var watch = Stopwatch.StartNew();
        var aggregation = await WaitForJobAsync(admin, await admin.PostAsJsonAsync("/api/datasets/real-votes/aggregation", new { threshold = 0.9 }));
        output.WriteLine($"aggregation: {watch.Elapsed.TotalSeconds:F1} s, {aggregation.GetProperty("result")}");
        var report = await (await admin.GetAsync("/api/datasets/real-votes/aggregation")).JsonAsync();
        var reference = report.GetProperty("reference");
        output.WriteLine($"against ReaL: {reference}");
        Assert.True(reference.GetProperty("identicalShare").GetDouble() > 0.85, reference.ToString());
        Assert.True(reference.GetProperty("precision").GetDouble() > 0.95, reference.ToString());
        Assert.True(reference.GetProperty("recall").GetDouble() > 0.90, reference.ToString());
        var raters = report.GetProperty("raters").EnumerateArray().ToList();
        Assert.Equal(85, raters.Count(r => r.GetProperty("kind").GetString() == "rater"));
        var graded = raters.Where(r => r.GetProperty("controlVotes").GetInt32() > 0).ToList();
        Assert.NotEmpty(graded);
        Assert.All(graded, r => Assert.InRange(r.GetProperty("controlAccuracy").GetDouble(), 0, 1));
        output.WriteLine($"raters graded on control questions: {graded.Count}, mean accuracy {graded.Average(r => r.GetProperty("controlAccuracy").GetDouble()):P1}");
    }
}
