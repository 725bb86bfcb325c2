using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>The public board answers with a tag a reverse proxy can revalidate, and the tag moves with the labels.</summary>
public sealed class BoardCachingTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Tench = "n01440764";

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string url, string? ifNoneMatch = null, bool gzip = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        if (gzip) request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_conditional_GET_answers_304_until_a_verdict_changes_the_board()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "etags", [Tench, "n02085620"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/etags/images/manifest",
            new StringContent("a.jpg,n01440764\nb.jpg,n02085620\n", Encoding.UTF8, "text/csv"))).StatusCode);
        var seed = new ScoringSeed(fixture.App.Db);
        var images = await seed.ImageIdsAsync("etags");
        await seed.PredictionsAsync("etags", "etag-model", "model", 1, images.Select(id => (id, new short[] { 0 })));
        await seed.VersionAsync("etags", [(images[0], Tench, "etag-r1", "correct")]);

        using var client = fixture.App.Anonymous();
        const string url = "/api/leaderboard?dataset=etags&wait=true";
        var first = await GetAsync(client, url);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var tag = first.Headers.ETag;
        Assert.NotNull(tag);
        Assert.False(tag!.IsWeak);
        Assert.True(first.Headers.CacheControl?.Public);
        Assert.True(first.Headers.CacheControl?.MaxAge > TimeSpan.Zero);

        var again = await GetAsync(client, url, tag.Tag);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(tag, again.Headers.ETag);
        // A list with the tag among others, and the weak form, match too (If-None-Match compares weakly).
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(client, url, $"\"other\", W/{tag.Tag}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, url, "\"other\"")).StatusCode);

        // The gzipped representation has a tag of its own. A plain answer to a client that accepts gzip starts it once
        // sent (the first answers get the JSON meanwhile); it follows within moments, and inflates to the JSON.
        var body = await first.Content.ReadAsByteArrayAsync();
        HttpResponseMessage zipped;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            zipped = await GetAsync(client, url, gzip: true);
            if (zipped.Content.Headers.ContentEncoding.Count == 0) await Task.Delay(20);
        } while (zipped.Content.Headers.ContentEncoding.Count == 0 && DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);
        Assert.Equal(["gzip"], zipped.Content.Headers.ContentEncoding);
        Assert.NotEqual(tag, zipped.Headers.ETag);
        using (var inflate = new System.IO.Compression.GZipStream(await zipped.Content.ReadAsStreamAsync(), System.IO.Compression.CompressionMode.Decompress))
        using (var inflated = new MemoryStream())
        {
            await inflate.CopyToAsync(inflated);
            Assert.Equal(body, inflated.ToArray());
        }
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(client, url, zipped.Headers.ETag!.Tag, gzip: true)).StatusCode);
        // A client that holds the plain JSON and accepts gzip keeps what it has: a 304 under the JSON's tag. One that
        // does not accept gzip is not told its gzip copy is current.
        var kept = await GetAsync(client, url, tag.Tag, gzip: true);
        Assert.Equal(HttpStatusCode.NotModified, kept.StatusCode);
        Assert.Equal(tag, kept.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, url, zipped.Headers.ETag!.Tag)).StatusCode);

        // A verdict moves the board: the old tag no longer matches and the new answer carries the new count.
        await seed.VersionAsync("etags", [(images[1], Tench, "etag-r1", "wrong")]);
        var changed = await GetAsync(client, url, tag.Tag);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.NotEqual(tag, changed.Headers.ETag);
        var row = (await changed.JsonAsync()).GetProperty("rows").EnumerateArray().Single();
        Assert.Equal(2, row.GetProperty("multiLabel").GetProperty("decided").GetInt64());
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(client, url, changed.Headers.ETag!.Tag)).StatusCode);
    }
}

/// <summary>The board's fingerprint (migration 0021's board epochs) moves with everything a board depends on.</summary>
public sealed class BoardFingerprintTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Tench = "n01440764";

    [Fact]
    public async Task The_fingerprint_moves_with_every_thing_the_board_depends_on_and_no_stale_304_follows()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "prints", [Tench, "n02085620"]);
        await TestData.CreateDatasetAsync(admin, "prints-v2", [Tench, "n02085620"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/prints/images/manifest",
            new StringContent("a.jpg,n01440764\nb.jpg,n02085620\n", Encoding.UTF8, "text/csv"))).StatusCode);
        var seed = new ScoringSeed(fixture.App.Db);
        var images = await seed.ImageIdsAsync("prints");
        await seed.PredictionsAsync("prints", "print-model", "model", 1, images.Select(id => (id, new short[] { 0 })));

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var seen = new HashSet<string>();
        async Task MovesAsync(string what, Func<Task> change)
        {
            var before = await Relabel.Api.Features.Leaderboard.LeaderboardService.FingerprintAsync(connection, "prints");
            Assert.NotNull(before);
            seen.Add(before!);
            await change();
            var after = await Relabel.Api.Features.Leaderboard.LeaderboardService.FingerprintAsync(connection, "prints");
            Assert.True(after is not null && seen.Add(after), $"The fingerprint did not move with {what}.");
        }
        async Task Sql(string sql) => await Dapper.SqlMapper.ExecuteAsync(connection, sql);

        await MovesAsync("a verdict", () => seed.VersionAsync("prints", [(images[0], Tench, "print-r1", "correct")]));
        await MovesAsync("the consensus rule", () => Sql("update datasets set consensus_rule = 'agreement:2' where slug = 'prints'"));
        await MovesAsync("the wrong-original setting", () => Sql("update datasets set original_wrong_is_problematic = not original_wrong_is_problematic where slug = 'prints'"));
        await MovesAsync("new images", async () => Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/prints/images/manifest",
            new StringContent("c.jpg,n01440764\n", Encoding.UTF8, "text/csv"))).StatusCode));
        await MovesAsync("a subset", () => Sql("insert into subsets (dataset_id, name) select id, 'print-subset' from datasets where slug = 'prints'"));
        await MovesAsync("an image set", () => Sql("insert into image_sets (dataset_id, name) select id, 'print-set' from datasets where slug = 'prints'"));
        await MovesAsync("an image set's revision", () => Sql("update image_sets set revision = revision + 1 where name = 'print-set'"));
        await MovesAsync("reference labels", () => Sql(
            "insert into reference_label_sets (dataset_id, imported_by, images, excluded) select d.id, u.id, 0, 0 from datasets d, users u where d.slug = 'prints' and u.name = 'admin'"));
        await MovesAsync("an upload", () => seed.PredictionsAsync("prints", "print-model-2", "model", 1, images.Select(id => (id, new short[] { 1 }))));
        await MovesAsync("a model's metadata", () => Sql("update models set display_name = 'Renamed', updated_at = now() where slug = 'print-model'"));
        await MovesAsync("a shifted partner", () => Sql("update datasets set shift_of = (select id from datasets where slug = 'prints') where slug = 'prints-v2'"));
        await MovesAsync("the partner's labels", () => Sql("update datasets set label_version = label_version + 1 where slug = 'prints-v2'"));
        await MovesAsync("the deletion of an entry", () => Sql("delete from prediction_sets where model_id = (select id from models where slug = 'print-model-2')"));

        // A renamed model: the tag of the board before no longer answers 304, and the new board shows the new name.
        using var client = fixture.App.Anonymous();
        const string url = "/api/leaderboard?dataset=prints&imageSet=all&wait=true";
        var first = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await Sql("update models set display_name = 'Renamed again', updated_at = now() where slug = 'print-model'");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        var second = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Contains("Renamed again", await second.Content.ReadAsStringAsync());
    }
}
