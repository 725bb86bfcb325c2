using System.Text.Json;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Leaderboard;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class LeaderboardBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    /// <summary>Three models, one with extra data, and two humans on both demo datasets, some of their top-1s reviewed; one model on part of demo-val only.</summary>
    private async Task SeedAsync()
    {
        var seed = new ScoringSeed(fixture.App.Db);
        var random = new Random(7);
        foreach (var dataset in new[] { "demo-val", "demo-v2" })
        {
            var images = await seed.ImageIdsAsync(dataset);
            var entries = new[] { ("resnet-50", "model", 0.7), ("vit-b16", "model", 0.8), ("effnet-l2", "model-extra-data", 0.88), ("human-a", "human", 0.9), ("human-b", "human", 0.85) };
            foreach (var (slug, kind, accuracy) in entries)
            {
                var shift = dataset == "demo-v2" ? 0.1 : 0;
                await seed.PredictionsAsync(dataset, slug, kind, 1, images.Select(id => (id, new[] { (short)(random.NextDouble() < accuracy - shift ? 0 : 1 + random.Next(3)) })));
            }
            // An entry that predicted only part of the original dataset: graded on what it predicted, not ranked.
            if (dataset == "demo-val")
                await seed.PredictionsAsync(dataset, "partial-net", "model", 1, images.Take(images.Length * 9 / 10).Select(id => (id, new[] { (short)0 })));
            // Review most images: class 0 is right, classes 1-3 are wrong; the rest stay pending.
            var classes = Relabel.Api.Features.Demo.DemoSeeder.Classes;
            await seed.ItemStatesAsync(dataset, images.Where((_, i) => i % 10 != 0)
                .SelectMany(id => new[] { (id, classes[0], "correct"), (id, classes[1], "wrong"), (id, classes[2], "wrong"), (id, classes[3], "unclear") }));
        }
    }

    [Fact]
    public async Task The_leaderboard_shows_every_entry_sorts_and_plots_original_against_shifted_accuracy()
    {
        await SeedAsync();
        var page = await fixture.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);

        // The board the API computes (the demo's entries, these five, and the majority ensembles) is what the page shows.
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var board = await (await http.GetAsync("/api/leaderboard?dataset=demo-val")).JsonAsync();
        var entries = board.GetProperty("rows").EnumerateArray().ToList();
        var humans = entries.Count(e => e.GetProperty("kind").GetString() == "human");
        var plotted = entries.Count(e => e.GetProperty("shift").ValueKind != System.Text.Json.JsonValueKind.Null);
        Assert.Contains(entries, e => e.GetProperty("slug").GetString() == "human-majority");
        Assert.True(humans >= 2);

        await page.GotoAsync("/leaderboard");
        var rows = page.GetByTestId("board-rows").Locator("tr");
        await Assertions.Expect(rows).ToHaveCountAsync(entries.Count);
        // No entry has synthetic predictions (make demo-zoo tags them): no notice. Tagged, the board says how many.
        await Assertions.Expect(page.GetByTestId("board-synthetic")).ToBeHiddenAsync();
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        await using (var tag = new Npgsql.NpgsqlCommand("update models set tags = tags || array['synthetic'], updated_at = now() where slug = 'vit-b16'", connection))
            await tag.ExecuteNonQueryAsync();
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("board-synthetic")).ToContainTextAsync("1 of these entries have synthetic predictions");
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        await using (var untag = new Npgsql.NpgsqlCommand("update models set tags = array_remove(tags, 'synthetic'), updated_at = now() where slug = 'vit-b16'", connection))
            await untag.ExecuteNonQueryAsync();
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("board-synthetic")).ToBeHiddenAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(entries.Count);
        await Assertions.Expect(page.GetByTestId("label-version")).ToContainTextAsync($"Label version {board.GetProperty("labelVersion").GetInt64()}");
        // Entries with pending top-1s say so (on every image of the demo more of them are pending).
        await Assertions.Expect(page.GetByTestId("provisional").Locator("visible=true").First).ToBeVisibleAsync();
        await page.GetByTestId("board-image-set").SelectOptionAsync("all");
        await Assertions.Expect(page.GetByTestId("provisional").Locator("visible=true").First).ToBeVisibleAsync();
        await page.GetByTestId("board-image-set").SelectOptionAsync("");
        await Assertions.Expect(rows).ToHaveCountAsync(entries.Count);

        // The partial entry has no rank and says why; ranked rows come first.
        var partial = page.Locator("tr[data-slug=partial-net]");
        await Assertions.Expect(partial.GetByTestId("rank")).ToHaveTextAsync("–");
        await Assertions.Expect(partial.GetByTestId("partial")).ToBeVisibleAsync();
        await Assertions.Expect(partial.GetByTestId("partial")).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("^Not ranked: it predicted [0-9,]+ of [0-9,]+ graded images"));
        await Assertions.Expect(page.Locator("tr[data-slug=vit-b16]").GetByTestId("partial")).ToBeHiddenAsync();
        Assert.Equal(JsonValueKind.Null, entries.Single(e => e.GetProperty("slug").GetString() == "partial-net").GetProperty("rank").ValueKind);
        var ranked = entries.Count(e => e.GetProperty("rank").ValueKind == JsonValueKind.Number);
        var shown = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.slug)");
        Assert.True(Array.IndexOf(shown, "partial-net") >= ranked, string.Join(", ", shown));

        // Sorting by name puts the first display name in alphabetical order first.
        await page.Locator("button[data-sort=name]").ClickAsync();
        var first = entries.OrderBy(e => e.GetProperty("displayName").GetString(), StringComparer.OrdinalIgnoreCase).First();
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-slug", first.GetProperty("slug").GetString()!);

        // Filtering by kind.
        await page.GetByTestId("kind-human").UncheckAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(entries.Count - humans);

        // The scatter plot: a mark per entry with both accuracies, by kind, the y = x line and the fit; hover names the model.
        var points = page.GetByTestId("point");
        await Assertions.Expect(points).ToHaveCountAsync(plotted);
        await Assertions.Expect(page.Locator("[data-testid=point][data-kind=human] polygon")).ToHaveCountAsync(humans);
        await Assertions.Expect(page.Locator("[data-testid=point][data-kind=model-extra-data] rect"))
            .ToHaveCountAsync(entries.Count(e => e.GetProperty("kind").GetString() == "model-extra-data"));
        await Assertions.Expect(page.GetByTestId("identity-line")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("fit-line")).ToHaveCountAsync(1);
        await page.Locator("[data-testid=point][data-slug=vit-b16]").HoverAsync();
        await Assertions.Expect(page.GetByTestId("scatter-hover")).ToContainTextAsync("vit-b16");

        // The lenient toggle asks the API again and says so.
        await page.GetByTestId("unclear-correct").CheckAsync();
        await Assertions.Expect(page.GetByTestId("label-version")).ToContainTextAsync("'unclear' counts correct");

        // A model's page.
        await page.Locator("tr[data-slug=vit-b16] a").ClickAsync();
        await page.WaitForURLAsync("**/models/vit-b16?dataset=demo-val");
        var results = await (await http.GetAsync("/api/models/vit-b16/results?dataset=demo-val")).JsonAsync();
        await Assertions.Expect(page.GetByTestId("subset-bars").Locator(".bar-row")).ToHaveCountAsync(results.GetProperty("subsets").GetArrayLength());
        await Assertions.Expect(page.GetByTestId("class-rows").Locator("tr")).ToHaveCountAsync(100);
        await page.GetByTestId("class-filter").FillAsync("chihuahua");
        await Assertions.Expect(page.GetByTestId("class-rows").Locator("tr")).ToHaveCountAsync(1);
        Assert.Empty(scriptErrors);
    }
}
