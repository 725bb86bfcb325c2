using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Interop;

/// <summary>Dawid-Skene aggregation as a job: its refusals, its outcomes applied as versioned labels, and who sees its job.</summary>
public sealed class AggregationTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02086240", "n02690373"];

    private RelabelApp App => fixture.App;

    private async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>
    /// Eight images, each asked about its original label by three raters: images 1-4 all yes, 5-8 all no but image 8's
    /// third rater, who says yes. Under "agreement:5" no vote decides anything: every item starts pending, but image 8's,
    /// whose raters disagree (a conflict).
    /// </summary>
    private async Task<HttpClient> VotedDatasetAsync(string slug)
    {
        var admin = App.Admin();
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        var manifest = string.Join("\n", Enumerable.Range(1, 8).Select(i => $"img_{i}.JPEG,{i % Classes.Length}"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/datasets/{slug}/consensus", new { rule = "agreement:5" })).StatusCode);
        var csv = new StringBuilder("file_name,wnid,rater,answer\n");
        for (var i = 1; i <= 8; i++)
            foreach (var rater in new[] { "a", "b", "c" })
                csv.Append($"img_{i}.JPEG,{Classes[i % Classes.Length]},{slug}-{rater},{(i <= 4 || (i == 8 && rater == "c") ? "yes" : "no")}\n");
        await InteropTests.WaitForJobAsync(admin, await admin.PostAsync($"/api/datasets/{slug}/import/rater-votes?rule=keep", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv")));
        return admin;
    }

    private Task<long> LabelVersionAsync(string slug) => ScalarAsync<long>("select label_version from datasets where slug = @slug", new { slug });

    private async Task<List<(string File, string State)>> StatesAsync(string slug)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<(string, string)>(
            """
            select i.file_name, r.state from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = @slug order by i.file_name
            """,
            new { slug })).ToList();
    }

    private Task<long> JobsOfAsync(string slug) =>
        ScalarAsync<long>("select count(*) from jobs j join datasets d on d.id = j.dataset_id where d.slug = @slug", new { slug });

    [Fact]
    public async Task A_bad_threshold_an_unknown_dataset_or_a_non_admin_starts_no_job_and_writes_nothing()
    {
        using var admin = await VotedDatasetAsync("agg-refused");
        var jobs = await JobsOfAsync("agg-refused");
        var states = await StatesAsync("agg-refused");

        foreach (var threshold in new[] { 0.5, 1.0, 0.2, 1.5, -1 })
        {
            var problem = await (await admin.PostAsJsonAsync("/api/datasets/agg-refused/aggregation", new { threshold }))
                .ProblemAsync(HttpStatusCode.UnprocessableEntity);
            Assert.True(problem.HasFieldError("threshold"), problem.ToString());
        }
        var unknown = await (await admin.PostAsJsonAsync("/api/datasets/no-such/aggregation", new { threshold = 0.9 })).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("no-such", unknown.GetProperty("detail").GetString());
        using var reviewer = await App.UserAsync("agg-reviewer", "reviewer");
        await (await reviewer.PostAsJsonAsync("/api/datasets/agg-refused/aggregation", new { threshold = 0.9, apply = true })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await App.Anonymous().PostAsJsonAsync("/api/datasets/agg-refused/aggregation", new { threshold = 0.9 })).ProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(jobs, await JobsOfAsync("agg-refused"));
        Assert.Equal(0, await ScalarAsync<long>("select count(*) from aggregations a join datasets d on d.id = a.dataset_id where d.slug = 'agg-refused'"));
        Assert.Equal(states, await StatesAsync("agg-refused"));
        await (await App.Anonymous().GetAsync("/api/datasets/agg-refused/aggregation")).ProblemAsync(HttpStatusCode.NotFound);
        await (await App.Anonymous().GetAsync("/api/datasets/no-such/aggregation")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Applied_outcomes_become_the_datasets_labels_in_one_new_label_version()
    {
        using var admin = await VotedDatasetAsync("agg-apply");
        var before = await StatesAsync("agg-apply");
        Assert.Equal([.. Enumerable.Repeat("pending", 7), "conflict"], before.Select(s => s.State));

        // Without apply the outcomes are only reported.
        var dry = await InteropTests.WaitForJobAsync(admin, await admin.PostAsJsonAsync("/api/datasets/agg-apply/aggregation", new { threshold = 0.9 }));
        Assert.Equal(0, dry.GetProperty("result").GetProperty("appliedChanges").GetInt32());
        Assert.Equal(before, await StatesAsync("agg-apply"));
        var version = await LabelVersionAsync("agg-apply");

        var job = await InteropTests.WaitForJobAsync(admin, await admin.PostAsJsonAsync("/api/datasets/agg-apply/aggregation", new { threshold = 0.9, apply = true }));
        var result = job.GetProperty("result");
        Assert.Equal(24, result.GetProperty("votes").GetInt32());
        Assert.Equal(8, result.GetProperty("questions").GetInt32());

        // The outcomes the job stored are the items' states now; the clear questions have the clear answers.
        var outcomes = (await (await admin.GetAsync("/api/datasets/agg-apply/aggregation")).JsonAsync());
        Assert.Equal(0.9, outcomes.GetProperty("threshold").GetDouble());
        var states = await StatesAsync("agg-apply");
        Assert.Equal(["correct", "correct", "correct", "correct", "wrong", "wrong", "wrong"], states.Take(7).Select(s => s.State));
        Assert.Equal(states.Count(s => s.State == "correct"), outcomes.GetProperty("correct").GetInt32());
        Assert.Equal(states.Count(s => s.State == "wrong"), outcomes.GetProperty("wrong").GetInt32());
        Assert.Equal(states.Count(s => s.State == "unclear"), outcomes.GetProperty("unclear").GetInt32());
        var changed = states.Where((s, i) => s.State != before[i].State).Count();
        Assert.Equal(changed, result.GetProperty("appliedChanges").GetInt32());

        // One new label version, recorded with its changes; the events are the source's adjudications at that version.
        Assert.Equal(version + 1, await LabelVersionAsync("agg-apply"));
        Assert.Equal(changed, await ScalarAsync<int>(
            "select v.changed_items from label_versions v join datasets d on d.id = v.dataset_id where d.slug = 'agg-apply' and v.version = @v",
            new { v = version + 1 }));
        Assert.Equal((long)changed, await ScalarAsync<long>(
            """
            select count(*) from verdict_events e join verdict_sources s on s.id = e.source_id
            join review_items r on r.id = e.item_id join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'agg-apply' and s.name = 'dawid-skene' and e.adjudication and e.label_version = @v
            """,
            new { v = version + 1 }));
        await InteropTests.AssertStatesFollowFromEventsAsync(App.Db, "agg-apply");

        // Applying the same outcomes again changes nothing and makes no version.
        var again = await InteropTests.WaitForJobAsync(admin, await admin.PostAsJsonAsync("/api/datasets/agg-apply/aggregation", new { threshold = 0.9, apply = true }));
        Assert.Equal(0, again.GetProperty("result").GetProperty("appliedChanges").GetInt32());
        Assert.Equal(version + 1, await LabelVersionAsync("agg-apply"));
    }

    [Fact]
    public async Task A_job_is_seen_by_its_creator_and_admins_and_does_not_exist_for_anyone_else()
    {
        using var admin = await VotedDatasetAsync("agg-jobs");
        var accepted = await admin.PostAsJsonAsync("/api/datasets/agg-jobs/aggregation", new { threshold = 0.9 });
        await InteropTests.WaitForJobAsync(admin, accepted);
        var location = (await accepted.JsonAsync()).GetProperty("location").GetString()!;

        using var reviewer = await App.UserAsync("agg-jobs-reviewer", "reviewer");
        using var uploader = await App.UserAsync("agg-jobs-uploader", "uploader");
        foreach (var other in new[] { reviewer, uploader })
        {
            var hidden = await (await other.GetAsync(location)).ProblemAsync(HttpStatusCode.NotFound);
            Assert.DoesNotContain("agg-jobs", hidden.ToString());
        }
        using var otherAdmin = await App.UserAsync("agg-jobs-admin", "admin");
        var seen = await (await otherAdmin.GetAsync(location)).JsonAsync();
        Assert.Equal("succeeded", seen.GetProperty("status").GetString());
        Assert.Equal("agg-jobs", seen.GetProperty("dataset").GetString());
        await (await App.Anonymous().GetAsync(location)).ProblemAsync(HttpStatusCode.Unauthorized);

        await (await admin.GetAsync("/api/jobs/999999999")).ProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync("/api/jobs/-1")).ProblemAsync(HttpStatusCode.NotFound);
    }
}
