using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Datasets;

public sealed class FeaturedDatasetTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private async Task<string> DefaultBoardAsync() =>
        (await (await fixture.App.Anonymous().GetAsync("/api/leaderboard")).JsonAsync()).GetProperty("dataset").GetString()!;

    [Fact]
    public async Task The_default_board_is_the_featured_dataset_else_the_one_with_the_most_entries()
    {
        using var admin = fixture.App.Admin();
        // "a-empty" comes first by id and has no entries; "b-one" has one, "c-two" two.
        foreach (var slug in new[] { "a-empty", "b-one", "c-two" }) await CreateDatasetAsync(admin, slug, 5);
        using var owner = await fixture.App.UserAsync("featured-owner", "uploader");
        foreach (var (model, dataset) in new[] { ("m1", "b-one"), ("m1", "c-two"), ("m2", "c-two") })
        {
            if ((await owner.GetAsync($"/api/models/{model}")).StatusCode == HttpStatusCode.NotFound) await CreateModelAsync(owner, model);
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, model, dataset, Body(Json(Rows(5, 1)), "application/json"))).StatusCode);
        }

        var listed = (await (await fixture.App.Anonymous().GetAsync("/api/datasets")).JsonAsync()).EnumerateArray()
            .ToDictionary(d => d.GetProperty("slug").GetString()!, d => (Entries: d.GetProperty("entries").GetInt32(), Featured: d.GetProperty("featured").GetBoolean()));
        Assert.Equal((0, false), listed["a-empty"]);
        Assert.Equal((1, false), listed["b-one"]);
        Assert.Equal((2, false), listed["c-two"]);
        Assert.Equal("c-two", await DefaultBoardAsync());

        // An admin features a dataset: it is the default; featuring another unfeatures the first.
        var featured = await (await admin.PatchAsJsonAsync("/api/datasets/b-one", new { featured = true })).JsonAsync();
        Assert.True(featured.GetProperty("featured").GetBoolean());
        Assert.Equal("b-one", await DefaultBoardAsync());
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync("/api/datasets/a-empty", new { featured = true })).StatusCode);
        Assert.False((await (await admin.GetAsync("/api/datasets/b-one")).JsonAsync()).GetProperty("featured").GetBoolean());
        // A featured dataset without entries is never the first board a visitor sees: the most entries win then.
        Assert.Equal("c-two", await DefaultBoardAsync());
        // Other settings leave the flag alone; unfeaturing hands the default back to the most entries.
        Assert.True((await (await admin.PatchAsJsonAsync("/api/datasets/a-empty", new { originalWrongIsProblematic = true })).JsonAsync())
            .GetProperty("featured").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync("/api/datasets/a-empty", new { featured = false })).StatusCode);
        Assert.Equal("c-two", await DefaultBoardAsync());

        using var uploader = await fixture.App.UserAsync("featured-uploader", "uploader");
        Assert.Equal(HttpStatusCode.Forbidden, (await uploader.PatchAsJsonAsync("/api/datasets/b-one", new { featured = true })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync("/api/datasets/no-such", new { featured = true })).StatusCode);
    }
}
