using System.Net;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Predictions;

/// <summary>What the submit page leans on: dry runs, a template to fill in, CSV rows padded to the header's k.</summary>
public sealed class SubmitHelpersTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    private async Task<long> UploadsAsync(string dataset)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            "select count(*) from prediction_uploads u join datasets d on d.id = u.dataset_id where d.slug = @dataset", new { dataset });
    }

    [Fact]
    public async Task A_dry_run_checks_the_whole_file_writes_nothing_and_says_what_the_upload_would_do()
    {
        using (var admin = App.Admin()) await CreateDatasetAsync(admin, "dry", 6);
        using var owner = await App.UserAsync("dry-owner", "uploader");

        // A model that does not exist yet: its first file is checked, and neither the model nor an upload is made.
        var checkedNew = await PutAsync(owner, "dry-new", "dry", Body(Json(Rows(6, 2)), "application/json"), "?dryRun=true");
        var answer = await checkedNew.JsonAsync();
        Assert.True(checkedNew.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.True(answer.GetProperty("dryRun").GetBoolean());
        Assert.Equal("applied", answer.GetProperty("outcome").GetString());
        Assert.Equal(0, answer.GetProperty("uploadId").GetInt64());
        Assert.Equal(6, answer.GetProperty("images").GetInt32());
        Assert.Equal(6, answer.GetProperty("newForReview").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("/api/models/dry-new")).StatusCode);
        Assert.Equal(0, await UploadsAsync("dry"));

        // Every error of a bad file, as an upload reports them, and still nothing written.
        var bad = "image,label1\nimg_000.JPEG,n01440764\nnope.JPEG,n01440764\nimg_002.JPEG,n99999999\n";
        var problem = await (await PutAsync(owner, "dry-new", "dry", Body(bad, "text/csv"), "?dryRun=true&partial=true"))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal([3L, 4L], problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt64()));

        // For an existing model, the same content as its current set is "unchanged", other content "applied".
        await CreateModelAsync(owner, "dry-old");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, "dry-old", "dry", Body(Json(Rows(6, 1)), "application/json"))).StatusCode);
        var same = await (await PutAsync(owner, "dry-old", "dry", Body(Json(Rows(6, 1)), "application/json"), "?dryRun=true")).JsonAsync();
        Assert.Equal("unchanged", same.GetProperty("outcome").GetString());
        var other = await (await PutAsync(owner, "dry-old", "dry", Body(Json(Rows(6, 1, shift: 1)), "application/json"), "?dryRun=true")).JsonAsync();
        Assert.Equal("applied", other.GetProperty("outcome").GetString());
        Assert.Equal(1, await UploadsAsync("dry"));
        Assert.Equal("img_000.JPEG:0:-", (await StoredAsync(App, "dry-old", "dry"))[0]);

        // Another uploader may check a file for a model of their own only.
        using var stranger = await App.UserAsync("dry-stranger", "uploader");
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync(stranger, "dry-old", "dry", Body(Json(Rows(6, 1)), "application/json"), "?dryRun=true")).StatusCode);
        await (await PutAsync(owner, "Not A Slug", "dry", Body(Json(Rows(6, 1)), "application/json"), "?dryRun=true"))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task A_CSV_whose_header_fixes_k_may_leave_trailing_label_cells_empty_but_not_a_cell_before_a_label()
    {
        using (var admin = App.Admin()) await CreateDatasetAsync(admin, "padded", 3);
        using var owner = await App.UserAsync("padded-owner", "uploader");
        await CreateModelAsync(owner, "padded");
        var csv = $"image,label1,label2,label3\n{Image(0)},{Classes[0]},{Classes[1]},{Classes[2]}\n{Image(1)},{Classes[1]},,\n{Image(2)},{Classes[2]},{Classes[3]},\n";
        var response = await PutAsync(owner, "padded", "padded", Body(csv, "text/csv"));
        var result = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal(3, result.GetProperty("k").GetInt32());
        Assert.Equal(6, result.GetProperty("labels").GetInt32());
        Assert.Equal(["img_000.JPEG:0 1 2:-", "img_001.JPEG:1:-", "img_002.JPEG:2 3:-"], await StoredAsync(App, "padded", "padded"));
        // The download pads the short rows again: uploading it back changes nothing.
        var download = await owner.GetStringAsync("/api/models/padded/predictions/padded?format=csv");
        Assert.Equal(csv, download);
        Assert.Equal("unchanged", (await (await PutAsync(owner, "padded", "padded", Body(download, "text/csv"))).JsonAsync()).GetProperty("outcome").GetString());

        var gap = $"image,label1,label2,label3\n{Image(0)},{Classes[0]},,{Classes[2]}\n{Image(1)},{Classes[1]},,\n{Image(2)},{Classes[2]},,\n";
        var problem = await (await PutAsync(owner, "padded", "padded", Body(gap, "text/csv"))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("line").GetInt64());
        Assert.Equal("labels[1]", error.GetProperty("field").GetString());
        // Without a header to fix k (JSON), rows keep one k.
        var mixed = """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n01443537"]},{"image":"img_001.JPEG","labels":["n01443537"]},{"image":"img_002.JPEG","labels":["n01484850","n01440764"]}]}""";
        await (await PutAsync(owner, "padded", "padded", Body(mixed, "application/json"))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task The_template_lists_every_image_with_empty_label_cells()
    {
        using (var admin = App.Admin()) await CreateDatasetAsync(admin, "template", 3);
        using var anonymous = App.Anonymous();
        var response = await anonymous.GetAsync("/api/datasets/template/prediction-template?k=2");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("image,label1,label2\nimg_000.JPEG,,\nimg_001.JPEG,,\nimg_002.JPEG,,\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/datasets/no-such/prediction-template")).StatusCode);
        await (await anonymous.GetAsync("/api/datasets/template/prediction-template?k=6")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }
}
