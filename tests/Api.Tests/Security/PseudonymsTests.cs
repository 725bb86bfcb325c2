using System.Net;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Interop;
using Relabel.Api.Tests.Review;
using Xunit;
using static Relabel.Api.Tests.Review.ReviewTestData;

namespace Relabel.Api.Tests.Security;

/// <summary>
/// Anonymous readers never see reviewers' account names: exports name them by pseudonyms that stay the same within a
/// dataset (and differ between datasets), histories are for signed-in users; imported crowd raters keep their ids.
/// </summary>
public sealed class PseudonymsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    /// <summary>A reviewer's problematic flag on an image, as a review submit records it.</summary>
    private Task FlagAsync(string dataset, string file, string reviewer) =>
        App.ExecuteAsync(
            """
            with image as (
                select i.id from images i join datasets d on d.id = i.dataset_id where d.slug = @dataset and i.file_name = @file
            ), flag as (
                insert into image_flag_events (image_id, reviewer_id, problematic, reason)
                select id, (select id from users where name = @reviewer), true, 'drawing-or-render' from image
            )
            insert into image_states (image_id, problematic, reason, version) select id, true, 'drawing-or-render', 1 from image
            """,
            new { dataset, file, reviewer });

    private static async Task<Dictionary<string, string>> ReviewersAsync(HttpClient reader, string dataset)
    {
        var export = JsonDocument.Parse(await reader.GetStringAsync($"/api/datasets/{dataset}/export/multilabel")).RootElement;
        return export.GetProperty("problematic_images").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetProperty("reviewer").GetString()!);
    }

    [Fact]
    public async Task Exports_name_reviewers_by_a_pseudonym_stable_within_a_dataset_and_imported_raters_as_imported()
    {
        using var ann = await App.UserAsync("pseudo-ann", "reviewer");
        using var bob = await App.UserAsync("pseudo-bob", "reviewer");
        foreach (var dataset in new[] { "pseudo-a", "pseudo-b" })
        {
            await CreateDatasetAsync(App, dataset, Classes[0], Classes[1], Classes[2]);
            await FlagAsync(dataset, "img_1", "pseudo-ann");
            await FlagAsync(dataset, "img_2", "pseudo-ann");
            await FlagAsync(dataset, "img_3", "pseudo-bob");
        }

        using var anonymous = App.Anonymous();
        var a = await ReviewersAsync(anonymous, "pseudo-a");
        var b = await ReviewersAsync(anonymous, "pseudo-b");
        Assert.DoesNotContain(a.Values.Concat(b.Values), name => name.Contains("pseudo-"));
        Assert.All(a.Values.Concat(b.Values), name => Assert.Matches("^reviewer-[0-9a-f]{10}$", name));
        Assert.Equal(a["img_1"], a["img_2"]);
        Assert.NotEqual(a["img_1"], a["img_3"]);
        Assert.NotEqual(a["img_1"], b["img_1"]);
        // Stable: the same again.
        Assert.Equal(a, await ReviewersAsync(anonymous, "pseudo-a"));

        // Signed-in readers see who it was; histories are for them only.
        using var admin = App.Admin();
        Assert.Equal("pseudo-ann", (await ReviewersAsync(admin, "pseudo-a"))["img_1"]);
        var image = await App.ScalarAsync<long>(
            "select i.id from images i join datasets d on d.id = i.dataset_id where d.slug = 'pseudo-a' and i.file_name = 'img_1'");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/images/{image}/history")).StatusCode);

        // Imported crowd raters keep the ids they were imported with, also in the public aggregation report.
        var votes = "file_name,wnid,rater,answer\n" +
                    string.Concat(new[] { "w17", "w42" }.SelectMany(rater => new[] { "img_1", "img_2", "img_3" }.Select(file => $"{file},{Classes[0]},{rater},yes\n")));
        await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/pseudo-a/import/rater-votes", new StringContent(votes, Encoding.UTF8, "text/csv")));
        await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/pseudo-a/aggregation",
            new StringContent("{\"threshold\":0.9}", Encoding.UTF8, "application/json")));
        var report = JsonDocument.Parse(await anonymous.GetStringAsync("/api/datasets/pseudo-a/aggregation")).RootElement;
        Assert.Equal(["rater:w17", "rater:w42"], report.GetProperty("raters").EnumerateArray().Select(r => r.GetProperty("rater").GetString()).Order());
    }
}
