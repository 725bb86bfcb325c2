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

        // The gzipped representation has a tag of its own.
        var zipped = await GetAsync(client, url, tag.Tag, gzip: true);
        Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);
        Assert.NotEqual(tag, zipped.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, (await GetAsync(client, url, zipped.Headers.ETag!.Tag, gzip: true)).StatusCode);

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
