using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>
/// The leaderboard's drill-downs on the demo: hard images with captions leading to an image page with its candidate
/// labels, the model page (one H1, breadcrumb, dataset switch, paged wrong images or names), and one not-found page.
/// Expected values come from the API in the same test.
/// </summary>
public sealed class DrillDownBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private Task<JsonElement> GetAsync(string path) => fixture.GetJsonAsync(path);

    private Task<(IPage Page, List<string> Errors)> OpenAsync(string path) => fixture.OpenAsync(path);

    /// <summary>With RELABEL_SCREENSHOTS set to a folder, the page at 1440x900 and 390x844 (for looking at, not asserting).</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("RELABEL_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder)) return;
        Directory.CreateDirectory(folder);
        foreach (var (width, height) in new[] { (1440, 900), (390, 844) })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}-{width}.png"), FullPage = true });
        }
        await page.SetViewportSizeAsync(1280, 720);
    }

    [Fact]
    public async Task A_hard_image_is_captioned_with_what_was_said_and_leads_to_its_candidate_labels_and_who_predicted_them()
    {
        var hard = await GetAsync("/api/analysis/hard-images?by=models&dataset=demo-val");
        var images = hard.GetProperty("hard").GetProperty("images").EnumerateArray().ToList();
        Assert.NotEmpty(images);
        var (page, errors) = await OpenAsync("/hard-images?by=models&dataset=demo-val");

        var items = page.GetByTestId("hard-images-list-item");
        await Assertions.Expect(items).ToHaveCountAsync(Math.Min(24, images.Count));
        var first = images[0];
        var said = first.GetProperty("said").EnumerateArray().First(s => s.GetProperty("models").GetInt32() > 0);
        var item = page.Locator($"[data-testid=hard-images-list-item][data-image-id='{first.GetProperty("imageId").GetInt64()}']");
        await Assertions.Expect(item).ToContainTextAsync(first.GetProperty("originalLemma").GetString()!);
        await Assertions.Expect(item).ToContainTextAsync($"models said {said.GetProperty("lemma").GetString()} ({said.GetProperty("models").GetInt32()})");
        // The demo's images are public: everyone sees the thumbnails.
        await Assertions.Expect(item.GetByTestId("hard-images-list-thumbnail")).ToHaveCountAsync(1);
        await ScreenshotAsync(page, "hard-images");

        var id = first.GetProperty("imageId").GetInt64();
        await item.Locator("a").ClickAsync();
        await page.WaitForURLAsync($"**/images/{id}");
        var predictions = await GetAsync($"/api/images/{id}/predictions");
        var entries = predictions.GetProperty("predictions").EnumerateArray().ToList();
        var labels = entries.Select(e => e.GetProperty("top1Wnid").GetString()).Append(predictions.GetProperty("originalWnid").GetString()).Distinct().Count();
        var rows = page.GetByTestId("candidate-row");
        await Assertions.Expect(rows).ToHaveCountAsync(labels);
        await Assertions.Expect(rows.First).ToContainTextAsync("(original label)");
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-wnid", predictions.GetProperty("originalWnid").GetString()!);
        // Every model is named on the row of its top-1 label, with that label's verdict.
        var entry = entries.First(e => e.GetProperty("kind").GetString() != "human");
        var row = page.Locator($"[data-testid=candidate-row][data-wnid={entry.GetProperty("top1Wnid").GetString()}]");
        await Assertions.Expect(row.GetByRole(AriaRole.Link, new() { Name = entry.GetProperty("displayName").GetString()!, Exact = true })).ToHaveCountAsync(1);
        await Assertions.Expect(row.Locator("td.verdict")).ToHaveAttributeAsync("data-state", entry.GetProperty("state").GetString()!);
        await ScreenshotAsync(page, "image");
        Assert.Empty(errors);
    }

    /// <summary>A demo model that gets more than a page of demo-val's images wrong, and its results.</summary>
    private async Task<(string Slug, JsonElement Results)> ModelWithWrongImagesAsync()
    {
        var board = await GetAsync("/api/leaderboard?dataset=demo-val");
        foreach (var row in board.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("kind").GetString() == "model"))
        {
            var slug = row.GetProperty("slug").GetString()!;
            var results = await GetAsync($"/api/models/{slug}/results?dataset=demo-val");
            if (results.GetProperty("wrongImages").GetArrayLength() > 24) return (slug, results);
        }
        throw new InvalidOperationException("No demo model gets more than 24 images wrong.");
    }

    [Fact]
    public async Task The_model_page_has_one_heading_a_breadcrumb_a_dataset_switch_and_pages_through_its_wrong_images()
    {
        var (slug, results) = await ModelWithWrongImagesAsync();
        var wrong = results.GetProperty("wrongImages").EnumerateArray().ToList();
        var (page, errors) = await OpenAsync($"/models/{slug}?dataset=demo-val");

        await Assertions.Expect(page.GetByTestId("model-title")).ToHaveTextAsync(results.GetProperty("model").GetProperty("displayName").GetString()!);
        Assert.Equal(1, await page.Locator("h1").CountAsync());
        var crumbs = page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumbs" }).Locator("li");
        await Assertions.Expect(crumbs).ToHaveCountAsync(3);
        await Assertions.Expect(crumbs.Nth(1)).ToHaveTextAsync("demo-val");

        var thumbnails = page.GetByTestId("wrong-images-thumbnail");
        await Assertions.Expect(thumbnails).ToHaveCountAsync(24);
        await Assertions.Expect(page.GetByTestId("wrong-images-position")).ToHaveTextAsync($"1–24 of {wrong.Count}");
        await page.GetByTestId("wrong-images-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wrong-images-position")).ToHaveTextAsync($"25–{Math.Min(48, wrong.Count)} of {wrong.Count}");
        await Assertions.Expect(page.GetByTestId("wrong-images-item").First).ToHaveAttributeAsync("data-image-id", wrong[24].GetProperty("imageId").GetInt64().ToString());
        await Assertions.Expect(page.GetByTestId("wrong-images-item").First).ToContainTextAsync($"predicted {wrong[24].GetProperty("predictedLemma").GetString()}");
        // The bars share one grid: every track starts at the same x.
        var lefts = await page.Locator(".bar-track").EvaluateAllAsync<double[]>("els => els.map(e => e.getBoundingClientRect().left)");
        Assert.True(lefts.Length > 1 && lefts.Distinct().Count() == 1, string.Join(", ", lefts));
        await ScreenshotAsync(page, "model");

        // The dataset switch opens the model's page on the other dataset, with its own address.
        await page.GetByLabel("Dataset", new() { Exact = true }).SelectOptionAsync("demo-v2");
        await page.WaitForURLAsync($"**/models/{slug}?dataset=demo-v2");
        await Assertions.Expect(page.GetByTestId("model-meta")).ToContainTextAsync("demo-v2");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Readers_who_may_not_see_a_datasets_images_get_the_wrong_images_as_names()
    {
        var (slug, _) = await ModelWithWrongImagesAsync();
        var (page, errors) = await OpenAsync($"/models/{slug}?dataset=demo-val");
        await Assertions.Expect(page.GetByTestId("wrong-images-thumbnail")).ToHaveCountAsync(24);

        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
            await connection.ExecuteAsync("update datasets set images_public = false where slug = 'demo-v2'");
        try
        {
            await page.GotoAsync($"/models/{slug}?dataset=demo-v2");
            await Assertions.Expect(page.GetByTestId("wrong-images-item").First).ToBeVisibleAsync();
            Assert.Equal(0, await page.GetByTestId("wrong-images-thumbnail").CountAsync());
            await Assertions.Expect(page.GetByTestId("wrong-note")).ToContainTextAsync("Sign in to see the images.");
        }
        finally
        {
            await using var connection = await fixture.App.Db.OpenConnectionAsync();
            await connection.ExecuteAsync("update datasets set images_public = true where slug = 'demo-v2'");
        }
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("/models/no-such-model", "There is no model 'no-such-model'.")]
    [InlineData("/models/demo-alexnet?dataset=no-such-dataset", "There is no dataset 'no-such-dataset'.")]
    [InlineData("/images/987654321", "There is no image 987654321.")]
    [InlineData("/browse/no-such-dataset", "There is no dataset 'no-such-dataset'.")]
    [InlineData("/hard-images?dataset=no-such-dataset", "There is no dataset 'no-such-dataset'.")]
    [InlineData("/no/such/page", "There is no page at /no/such/page.")]
    public async Task A_missing_model_image_dataset_or_page_shows_one_not_found_page(string path, string detail)
    {
        var (page, errors) = await OpenAsync(path);
        var notFound = page.GetByTestId("not-found");
        await Assertions.Expect(notFound).ToContainTextAsync(detail);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        Assert.Equal("Not found · Relabel", await page.TitleAsync());
        Assert.Empty(errors);
    }
}
