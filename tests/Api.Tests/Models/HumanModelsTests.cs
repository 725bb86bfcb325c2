using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;
using static Relabel.Api.Tests.Review.ReviewTestData;

namespace Relabel.Api.Tests.Models;

/// <summary>human-&lt;name&gt; is a labeler's model: no uploader can squat the name or write into it.</summary>
public sealed class HumanModelsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    [Fact]
    public async Task An_uploader_cannot_create_a_human_model_or_change_one_and_a_squatted_one_never_takes_a_labelers_answers()
    {
        using var uploader = await App.UserAsync("squatter", "uploader");
        var refused = await (await uploader.PostAsJsonAsync("/api/models", new { slug = "human-victim", displayName = "Victim", kind = "human" }))
            .ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("labeler", refused.GetProperty("detail").GetString());
        await (await uploader.PostAsJsonAsync("/api/models", new { slug = "human-victim", displayName = "Victim", kind = "model" }))
            .ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NotFound, (await App.Anonymous().GetAsync("/api/models/human-victim")).StatusCode);

        // One made before the names were reserved, owned by the uploader: it may not write to it any more...
        await CreateDatasetAsync(App, "humans-guarded", Classes[0], Classes[1]);
        await App.ExecuteAsync(
            """
            insert into models (slug, display_name, kind, owner_id)
            values ('human-victim', 'Victim', 'human', (select id from users where name = 'squatter'))
            """);
        var body = new StringContent("image,label1\nimg_1,0\n", System.Text.Encoding.UTF8, "text/csv");
        await (await uploader.PutAsync("/api/models/human-victim/predictions/humans-guarded?partial=true", body)).ProblemAsync(HttpStatusCode.Forbidden);
        await (await uploader.PatchAsJsonAsync("/api/models/human-victim", new { description = "mine" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await uploader.DeleteAsync("/api/models/human-victim")).ProblemAsync(HttpStatusCode.Forbidden);

        // ...and the labeler's evaluation answers are not published into it.
        using var victim = await App.UserAsync("victim");
        using var admin = App.Admin();
        var created = await admin.PostAsJsonAsync("/api/labeling/tasks",
            new { name = "e", dataset = "humans-guarded", mode = "evaluation", labelers = new[] { "victim" }, fileNames = new[] { "img_1" } });
        var task = (await created.JsonAsync()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await victim.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/1", new { wnid = Classes[1] })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await victim.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);
        Assert.Equal(0, await App.ScalarAsync<long>(
            "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = 'human-victim'"));
        Assert.Contains(App.Logs.Lines, line => line.Contains("were not published") && line.Contains("human-victim"));

        // An admin may create one (for a labeler whose answers come from elsewhere).
        Assert.Equal(HttpStatusCode.Created,
            (await admin.PostAsJsonAsync("/api/models", new { slug = "human-external", displayName = "External", kind = "human" })).StatusCode);
    }
}
