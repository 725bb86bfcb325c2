using System.Net;
using System.Text;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Images;

public sealed class ManifestTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    private async Task<long> CountAsync(string dataset)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            "select count(*) from images i join datasets d on d.id = i.dataset_id where d.slug = @dataset", new { dataset });
    }

    [Fact]
    public async Task The_50000_ILSVRC_validation_images_register_from_a_manifest_and_re_running_is_a_no_op()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "imagenet-val", TestData.IlsvrcClasses());
        var labels = File.ReadAllLines(Path.Combine(TestData.SharedData, "ilsvrc2012", "val_labels.txt"));
        Assert.Equal(50_000, labels.Length);
        var csv = "file_name,label\n" + string.Join("\n", labels.Select((wnid, i) => $"ILSVRC2012_val_{i + 1:D8}.JPEG,{wnid}"));

        var first = await (await admin.PostAsync("/api/datasets/imagenet-val/images/manifest", Csv(csv))).JsonAsync();
        Assert.Equal(50_000, first.GetProperty("inserted").GetInt64());
        Assert.Equal(50_000, await CountAsync("imagenet-val"));

        var again = await (await admin.PostAsync("/api/datasets/imagenet-val/images/manifest", Csv(csv))).JsonAsync();
        Assert.Equal(0, again.GetProperty("inserted").GetInt64());
        Assert.Equal(0, again.GetProperty("updated").GetInt64());
        Assert.Equal(50_000, again.GetProperty("unchanged").GetInt64());

        var classes = await (await admin.GetAsync("/api/datasets/imagenet-val/classes?subset=dogs")).JsonAsync();
        Assert.Equal(118 * 50, classes.EnumerateArray().Sum(c => c.GetProperty("imageCount").GetInt64()));
    }

    [Fact]
    public async Task Datasets_report_image_counts_kept_by_triggers_through_inserts_moves_and_deletes()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "count-a", TestData.IlsvrcClasses());
        await TestData.CreateDatasetAsync(admin, "count-b", TestData.IlsvrcClasses());
        var csv = "file_name,label\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => $"c_{i:D3}.JPEG,n01440764"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/count-a/images/manifest", Csv(csv))).StatusCode);
        async Task<long> Listed(string slug) => (await (await admin.GetAsync($"/api/datasets/{slug}")).JsonAsync()).GetProperty("imageCount").GetInt64();
        Assert.Equal(30, await Listed("count-a"));

        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                update images set dataset_id = (select id from datasets where slug = 'count-b')
                where file_name in ('c_000.JPEG', 'c_001.JPEG', 'c_002.JPEG') and dataset_id = (select id from datasets where slug = 'count-a');
                update images set original_wnid = 'n01443537' where file_name = 'c_010.JPEG';
                delete from images where file_name in ('c_020.JPEG', 'c_021.JPEG') and dataset_id = (select id from datasets where slug = 'count-a');
                """);
        Assert.Equal(25, await Listed("count-a"));
        Assert.Equal(3, await Listed("count-b"));
        Assert.Equal(25, await CountAsync("count-a"));
        Assert.Contains((await (await admin.GetAsync("/api/datasets")).JsonAsync()).EnumerateArray(),
            d => d.GetProperty("slug").GetString() == "count-b" && d.GetProperty("imageCount").GetInt64() == 3);
    }

    [Fact]
    public async Task Bad_rows_are_listed_with_their_lines_and_nothing_is_registered()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "bad-manifest", ["n01440764", "n02085620"]);
        var csv = "a.JPEG,0\nb.JPEG,n99999999\nc.JPEG,7\na.JPEG,1\nd.JPEG\n\"e,quoted.JPEG\",1\n";
        var problem = await (await admin.PostAsync("/api/datasets/bad-manifest/images/manifest", Csv(csv)))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var errors = problem.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("line").GetInt64(), e.GetProperty("field").GetString())).ToList();
        Assert.Equal([(2L, "label"), (3L, "label"), (4L, "file_name"), (5L, "row")], errors);
        Assert.Equal(0, await CountAsync("bad-manifest"));
        Assert.Equal(4, problem.GetProperty("errorCount").GetInt64());

        var valid = await admin.PostAsync("/api/datasets/bad-manifest/images/manifest", Csv("a.JPEG,0\n\"e,quoted.JPEG\",n02085620\n"));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(2, await CountAsync("bad-manifest"));
    }

    [Fact]
    public async Task A_manifest_with_thousands_of_errors_lists_100_and_counts_all()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "many-errors", ["n01440764"]);
        var csv = string.Join("\n", Enumerable.Range(1, 5000).Select(i => $"x{i}.JPEG,n0000000{i % 10}"));
        var problem = await (await admin.PostAsync("/api/datasets/many-errors/images/manifest", Csv(csv)))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(100, problem.GetProperty("errors").GetArrayLength());
        Assert.Equal(5000, problem.GetProperty("errorCount").GetInt64());
    }

    [Fact]
    public async Task Empty_bodies_wrong_types_and_oversized_bodies_are_refused()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "refusals", ["n01440764"]);
        await (await admin.PostAsync("/api/datasets/refusals/images/manifest", Csv(""))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsync("/api/datasets/refusals/images/manifest", new StringContent("{}", Encoding.UTF8, "application/json")))
            .ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await (await admin.PostAsync("/api/datasets/nope/images/manifest", Csv("a,0"))).ProblemAsync(HttpStatusCode.NotFound);

        using var small = new RelabelApp(fixture.App.Database, new Dictionary<string, string?> { ["Relabel:MaxManifestBytes"] = "1000" });
        using var client = small.Admin();
        var big = string.Join("\n", Enumerable.Range(1, 200).Select(i => $"file{i}.JPEG,0"));
        var problem = await (await client.PostAsync("/api/datasets/refusals/images/manifest", Csv(big))).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1000", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await CountAsync("refusals"));
    }
}
