using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;

namespace Relabel.Api.Tests.Models;

public sealed class ModelsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    [Fact]
    public async Task An_uploader_registers_a_model_that_anyone_can_list_and_read()
    {
        using var uploader = await App.UserAsync("m-uploader", "uploader");
        var response = await uploader.PostAsJsonAsync("/api/models", new
        {
            slug = "resnet50",
            displayName = "ResNet-50",
            kind = "model",
            description = "He et al.",
            paperUrl = "https://arxiv.org/abs/1512.03385",
            codeUrl = "https://github.com/pytorch/vision",
            parameterCount = 25_557_032,
            trainingData = "imagenet-1k",
            tags = new[] { "cnn", "resnet" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/models/resnet50", response.Headers.Location?.ToString());
        var created = await response.JsonAsync();
        Assert.Equal("m-uploader", created.GetProperty("owner").GetString());
        Assert.Equal(25_557_032, created.GetProperty("parameterCount").GetInt64());
        Assert.Equal(["cnn", "resnet"], created.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        // A human of kind "human" under a name of its own: human-<name> is reserved for labelers (HumanModelsTests).
        await PredictionData.CreateModelAsync(uploader, "expert-a", kind: "human", tags: ["expert"]);

        using var anonymous = App.Anonymous();
        var model = await (await anonymous.GetAsync("/api/models/resnet50")).JsonAsync();
        Assert.Equal("ResNet-50", model.GetProperty("displayName").GetString());
        Assert.Equal("imagenet-1k", model.GetProperty("trainingData").GetString());
        Assert.Empty(model.GetProperty("datasets").EnumerateArray());

        var humans = await (await anonymous.GetAsync("/api/models?kind=human")).JsonAsync();
        Assert.Equal(["expert-a"], humans.EnumerateArray().Select(m => m.GetProperty("slug").GetString()));
        var cnns = await (await anonymous.GetAsync("/api/models?tag=cnn")).JsonAsync();
        Assert.Equal(["resnet50"], cnns.EnumerateArray().Select(m => m.GetProperty("slug").GetString()));
        await (await anonymous.GetAsync("/api/models/nope")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Invalid_and_duplicate_models_are_refused()
    {
        using var uploader = await App.UserAsync("m-invalid", "uploader");
        var invalid = await uploader.PostAsJsonAsync("/api/models",
            new { slug = "Bad Slug", displayName = "", kind = "robot", paperUrl = "javascript:alert(1)", tags = new[] { "UPPER" } });
        var problem = await invalid.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Contains("slug", fields);
        Assert.Contains("displayName", fields);
        Assert.Contains("kind", fields);
        Assert.Contains("paperUrl", fields);
        Assert.Contains("tags[0]", fields);

        await PredictionData.CreateModelAsync(uploader, "twice");
        await (await uploader.PostAsJsonAsync("/api/models", new { slug = "twice", displayName = "Twice", kind = "model" }))
            .ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Anonymous_callers_and_reviewers_cannot_create_models()
    {
        var body = new { slug = "not-allowed", displayName = "No", kind = "model" };
        await (await App.Anonymous().PostAsJsonAsync("/api/models", body)).ProblemAsync(HttpStatusCode.Unauthorized);
        using var reviewer = await App.UserAsync("m-reviewer", "reviewer");
        await (await reviewer.PostAsJsonAsync("/api/models", body)).ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_may_change_or_delete_a_model()
    {
        using var owner = await App.UserAsync("m-owner", "uploader");
        using var other = await App.UserAsync("m-other", "uploader");
        using var admin = App.Admin();
        await PredictionData.CreateModelAsync(owner, "owned");

        await (await other.PatchAsJsonAsync("/api/models/owned", new { displayName = "Mine now" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await other.DeleteAsync("/api/models/owned")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await other.PatchAsJsonAsync("/api/models/missing", new { displayName = "x" })).ProblemAsync(HttpStatusCode.NotFound);

        var patched = await owner.PatchAsJsonAsync("/api/models/owned", new { displayName = "Owned v2", tags = new[] { "vit" }, paperUrl = "https://example.org/p" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var model = await patched.JsonAsync();
        Assert.Equal("Owned v2", model.GetProperty("displayName").GetString());
        Assert.Equal("model", model.GetProperty("kind").GetString());
        Assert.Equal("https://example.org/p", model.GetProperty("paperUrl").GetString());

        var cleared = await (await admin.PatchAsJsonAsync("/api/models/owned", new { paperUrl = "", kind = "ensemble" })).JsonAsync();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, cleared.GetProperty("paperUrl").ValueKind);
        Assert.Equal("ensemble", cleared.GetProperty("kind").GetString());
        Assert.Equal(["vit"], cleared.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/models/owned")).StatusCode);
        await (await owner.DeleteAsync("/api/models/owned")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_a_model_removes_its_predictions_but_never_review_items()
    {
        using var admin = App.Admin();
        await PredictionData.CreateDatasetAsync(admin, "m-delete");
        using var owner = await App.UserAsync("m-deleter", "uploader");
        await PredictionData.CreateModelAsync(owner, "doomed");
        var upload = await PredictionData.PutAsync(owner, "doomed", "m-delete",
            PredictionData.Body(PredictionData.Json(PredictionData.Rows(6, 2, shift: 1)), "application/json"));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var model = await (await App.Anonymous().GetAsync("/api/models/doomed")).JsonAsync();
        Assert.Equal(["m-delete"], model.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
        const string reviewItems =
            "select count(*) from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id where d.slug = 'm-delete'";
        await App.FollowupsDoneAsync();
        Assert.Equal(12, await PredictionData.CountAsync(App, reviewItems));

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync("/api/models/doomed")).StatusCode);
        Assert.Equal(0, await PredictionData.CountAsync(App,
            "select count(*) from predictions p join images i on i.id = p.image_id join datasets d on d.id = i.dataset_id where d.slug = 'm-delete'"));
        Assert.Equal(12, await PredictionData.CountAsync(App, reviewItems));
    }
}
