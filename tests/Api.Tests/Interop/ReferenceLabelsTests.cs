using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Interop;

/// <summary>Reference multi-labels (the ReaL format): a refused import leaves the labels the dataset had.</summary>
public sealed class ReferenceLabelsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Refused_reference_labels_leave_the_previous_ones_whole()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "ref-keep", ["n01440764", "n01443537", "n02085620"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/ref-keep/images/manifest",
            new StringContent("a.JPEG,0\nb.JPEG,1\nc.JPEG,2\nd.JPEG,0\n", Encoding.UTF8, "text/csv"))).StatusCode);
        const string First = "[[0],[1,2],[],[0]]";
        Assert.True((await admin.PutAsync("/api/datasets/ref-keep/reference-labels", Json(First))).IsSuccessStatusCode);
        async Task<int[][]> ExportedAsync() =>
            JsonSerializer.Deserialize<int[][]>(await fixture.App.Anonymous().GetStringAsync("/api/datasets/ref-keep/export/real"))!;
        var before = await ExportedAsync();
        Assert.Equal(JsonSerializer.Deserialize<int[][]>(First), before);

        foreach (var body in new[]
                 {
                     "[[2],[2]]",              // too few images
                     "[[2],[2],[9],[2]]",      // no class 9
                     "[[2],[2],[-1],[2]]",
                     "[[2],[2],[2],[2],[2]]",  // too many images
                     "[[2],[2],",              // cut short
                 })
        {
            var response = await admin.PutAsync("/api/datasets/ref-keep/reference-labels", Json(body));
            Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest,
                $"{body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await response.ProblemAsync(response.StatusCode);
        }
        using var reviewer = await fixture.App.UserAsync("ref-reviewer", "reviewer");
        await (await reviewer.PutAsync("/api/datasets/ref-keep/reference-labels", Json("[[2],[2],[2],[2]]"))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await fixture.App.Anonymous().PutAsync("/api/datasets/ref-keep/reference-labels", Json("[[2],[2],[2],[2]]")))
            .ProblemAsync(HttpStatusCode.Unauthorized);
        await (await admin.PutAsync("/api/datasets/no-such/reference-labels", Json("[]"))).ProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(before, await ExportedAsync());
    }
}
