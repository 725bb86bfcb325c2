using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Npgsql;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Interop;

/// <summary>Rater votes in a database of their own: the raters they create are global verdict sources.</summary>
public sealed class RaterVotesTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02086240", "n02690373"];

    [Fact]
    public async Task A_datasets_first_votes_decide_new_and_existing_items_as_they_are_written_and_the_review_queue_follows()
    {
        var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "votes-first", Classes);
        var manifest = string.Join("\n", Enumerable.Range(1, 6).Select(i => $"img_{i:D4}.JPEG,{i % Classes.Length}"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/votes-first/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/datasets/votes-first/consensus", new { rule = "agreement:2" })).StatusCode);
        // Two questions exist before any vote, pending, as a prediction upload leaves them.
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                insert into review_items (image_id, wnid)
                select i.id, i.original_wnid from images i join datasets d on d.id = i.dataset_id
                where d.slug = 'votes-first' and i.file_name in ('img_0001.JPEG', 'img_0002.JPEG')
                """);
        var csv = "file_name,wnid,rater,answer\n" +
                  $"img_0001.JPEG,{Classes[1]},a,yes\nimg_0001.JPEG,{Classes[1]},b,yes\n" +   // existing: correct
                  $"img_0002.JPEG,{Classes[2]},a,yes\nimg_0002.JPEG,{Classes[2]},b,no\n" +    // existing: conflict
                  $"img_0003.JPEG,{Classes[0]},a,no\n" +                                       // new: one vote of two, pending
                  $"img_0004.JPEG,{Classes[0]},b,no\nimg_0004.JPEG,{Classes[0]},a,no\n";     // new: wrong
        // Agreement does not fit crowd votes: refused unless the import may switch the dataset to the majority rule.
        var refused = await admin.PostAsync("/api/datasets/votes-first/import/rater-votes", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Contains("rule=majority", (await refused.ProblemAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("detail").GetString());
        Assert.Equal(0, await VotesAsync("votes-first"));
        var job = await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/votes-first/import/rater-votes?rule=majority", new StringContent(csv, Encoding.UTF8, "text/csv")));
        var result = job.GetProperty("result");
        Assert.Equal(7, result.GetProperty("votes").GetInt32());
        Assert.Equal(4, result.GetProperty("questions").GetInt32());
        Assert.Equal(4, result.GetProperty("changedItems").GetInt32());
        Assert.Equal(1, result.GetProperty("labelVersion").GetInt64());
        Assert.Equal("majority", result.GetProperty("rule").GetString());
        Assert.Equal("agreement:2", result.GetProperty("ruleChangedFrom").GetString());
        await InteropTests.AssertStatesFollowFromEventsAsync(fixture.App.Db, "votes-first");

        await using var db = await fixture.App.Db.OpenConnectionAsync();
        // The events were copied without per-row reference checks: every one still names an item and a source.
        Assert.Equal(0, await db.ExecuteScalarAsync<int>(
            """
            select count(*)::int from verdict_events e
            where not exists (select from review_items r where r.id = e.item_id)
               or (e.source_id is not null and not exists (select from verdict_sources s where s.id = e.source_id))
            """));
        var items = (await db.QueryAsync<(string FileName, string State, int Version, long LabelVersion)>(
            """
            select i.file_name, r.state, r.version, (select max(e.label_version) from verdict_events e where e.item_id = r.id)
            from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'votes-first' order by i.file_name
            """)).ToList();
        Assert.Equal(
            [("img_0001.JPEG", "correct", 1, 1L), ("img_0002.JPEG", "unclear", 1, 1L), ("img_0003.JPEG", "wrong", 1, 1L), ("img_0004.JPEG", "wrong", 1, 1L)],
            items);
        await AssertReviewQueueFollowsItemsAsync(db, "votes-first");

        // Golden answers to an existing question: a later import, re-derived, and the question becomes a control question.
        var golden = await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/votes-first/import/rater-votes?golden=true",
            new StringContent($"file_name,wnid,rater,answer\nimg_0003.JPEG,{Classes[0]},expert,yes\n", Encoding.UTF8, "text/csv")));
        Assert.Equal(1, golden.GetProperty("result").GetProperty("changedItems").GetInt32());
        await InteropTests.AssertStatesFollowFromEventsAsync(fixture.App.Db, "votes-first");
        Assert.Equal(["img_0003.JPEG"], await db.QueryAsync<string>(
            """
            select i.file_name from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id
            where d.slug = 'votes-first' and r.control
            """));
        await AssertReviewQueueFollowsItemsAsync(db, "votes-first");
    }

    [Theory]
    [InlineData("latest")]     // switched to the majority rule by the import
    [InlineData("majority")]
    public async Task A_datasets_first_votes_continue_its_label_versions(string rule)
    {
        const long expected = 6;
        var admin = fixture.App.Admin();
        var slug = "votes-version-" + rule.Replace(":", "");
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest",
            new StringContent("img_0001.JPEG,0", Encoding.UTF8, "text/csv"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/datasets/{slug}/consensus", new { rule })).StatusCode);
        await using var db = await fixture.App.Db.OpenConnectionAsync();
        // Earlier versions without any verdict event (as flags make them).
        await db.ExecuteAsync("update datasets set label_version = 5 where slug = @slug", new { slug });

        var job = await InteropTests.WaitForJobAsync(admin, await admin.PostAsync($"/api/datasets/{slug}/import/rater-votes",
            new StringContent($"file_name,wnid,rater,answer\nimg_0001.JPEG,{Classes[0]},a,yes\n", Encoding.UTF8, "text/csv")));
        Assert.Equal(expected, job.GetProperty("result").GetProperty("labelVersion").GetInt64());
        Assert.Equal(expected, await db.ExecuteScalarAsync<long>("select label_version from datasets where slug = @slug", new { slug }));
        Assert.Equal("majority", await db.ExecuteScalarAsync<string>("select consensus_rule from datasets where slug = @slug", new { slug }));
        Assert.Equal([expected], await db.QueryAsync<long>(
            """
            select distinct e.label_version from verdict_events e join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id where d.slug = @slug
            """, new { slug }));
    }

    [Fact]
    public async Task Keeping_the_latest_rule_for_crowd_votes_is_refused_and_writes_nothing()
    {
        var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "votes-keep", Classes);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/votes-keep/images/manifest",
            new StringContent("img_0001.JPEG,0", Encoding.UTF8, "text/csv"))).StatusCode);
        var refused = await admin.PostAsync("/api/datasets/votes-keep/import/rater-votes?rule=keep",
            new StringContent($"file_name,wnid,rater,answer\nimg_0001.JPEG,{Classes[0]},a,yes\n", Encoding.UTF8, "text/csv"));
        Assert.Contains("whichever rater came last", (await refused.ProblemAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("detail").GetString());
        await (await admin.PostAsync("/api/datasets/votes-keep/import/rater-votes?rule=plurality",
            new StringContent($"file_name,wnid,rater,answer\nimg_0001.JPEG,{Classes[0]},a,yes\n", Encoding.UTF8, "text/csv"))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(0, await VotesAsync("votes-keep"));
        await using var db = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal("latest", await db.ExecuteScalarAsync<string>("select consensus_rule from datasets where slug = 'votes-keep'"));
    }

    private async Task<long> VotesAsync(string slug)
    {
        await using var db = await fixture.App.Db.OpenConnectionAsync();
        return await db.ExecuteScalarAsync<long>(
            """
            select count(*) from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            join datasets d on d.id = i.dataset_id where d.slug = @slug
            """, new { slug });
    }

    /// <summary>The trigger-kept review queue counts what the items say, image by image.</summary>
    private static async Task AssertReviewQueueFollowsItemsAsync(NpgsqlConnection db, string slug)
    {
        const string counts =
            """
            select i.id, count(r.id)::int, (count(*) filter (where r.state = 'pending'))::int, (count(*) filter (where r.state = 'conflict'))::int
            from images i join datasets d on d.id = i.dataset_id join review_items r on r.image_id = i.id
            where d.slug = @slug group by i.id order by i.id
            """;
        const string queue =
            """
            select q.image_id, q.items, q.pending, q.conflicts
            from review_queue q join datasets d on d.id = q.dataset_id where d.slug = @slug and q.items > 0 order by q.image_id
            """;
        Assert.Equal(
            (await db.QueryAsync<(long, int, int, int)>(counts, new { slug })).ToList(),
            (await db.QueryAsync<(long, int, int, int)>(queue, new { slug })).ToList());
    }
}
