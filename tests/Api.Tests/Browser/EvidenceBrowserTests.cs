using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>
/// The leaderboard as evidence on the demo as "make run" serves it (its models and at least one human, both paired
/// datasets): rank intervals, the scope and fit controls, comparing two rows, the paper view and dataset statistics.
/// Only reads, so the tests share one server; expected values come from the API in the same test.
/// </summary>
public sealed class EvidenceBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static string Percent(double value) => (value * 100).ToString("0.00", CultureInfo.InvariantCulture);

    private Task<JsonElement> GetAsync(string path) => fixture.GetJsonAsync(path);

    private Task<(IPage Page, List<string> Errors)> OpenAsync(string path) => fixture.OpenAsync(path);

    private static bool IsLeaderboardRequest(IRequest request, string parameter) =>
        request.Url.Contains("/api/leaderboard?", StringComparison.Ordinal) && request.Url.Contains(parameter, StringComparison.Ordinal);

    [Fact]
    public async Task The_leaderboard_fills_in_rank_intervals_once_its_statistics_are_ready_and_its_scope_and_fit_controls_change_the_request()
    {
        var (page, errors) = await OpenAsync("/leaderboard");
        var board = await GetAsync("/api/leaderboard?dataset=demo-val&wait=true");
        Assert.Equal("ready", board.GetProperty("statistics").GetProperty("status").GetString());
        var rows = board.GetProperty("rows").EnumerateArray().ToList();
        Assert.Contains(rows, r => r.GetProperty("kind").GetString() == "human");
        Assert.Contains(rows, r => r.GetProperty("kind").GetString() == "model");

        // The page says the statistics are computing until they are in, then shows every ranked row's interval.
        var statistics = page.GetByTestId("statistics-status");
        await Assertions.Expect(statistics).ToHaveAttributeAsync("data-status", "ready", new() { Timeout = 90_000 });
        await Assertions.Expect(page.GetByTestId("board-rows").Locator("tr")).ToHaveCountAsync(rows.Count);
        foreach (var row in rows.Where(r => r.GetProperty("rank").ValueKind == JsonValueKind.Number))
        {
            var slug = row.GetProperty("slug").GetString()!;
            var interval = row.GetProperty("rankInterval");
            int lower = interval.GetProperty("lower").GetInt32(), upper = interval.GetProperty("upper").GetInt32();
            var tr = page.Locator($"tr[data-slug='{slug}']");
            await Assertions.Expect(tr.GetByTestId("rank-interval")).ToHaveTextAsync(lower == upper ? $"{lower}" : $"{lower}–{upper}");
            await Assertions.Expect(tr.GetByTestId("rank")).ToHaveTextAsync(row.GetProperty("rank").GetInt32().ToString(CultureInfo.InvariantCulture));
            await Assertions.Expect(tr.GetByTestId("multilabel")).ToContainTextAsync(Percent(row.GetProperty("value").GetDouble()));

            // A row whose difference to the next is not significant carries the mark, with its p-value in the title.
            var next = row.GetProperty("versusNext");
            var mark = tr.GetByTestId("not-significant");
            if (next.ValueKind == JsonValueKind.Object && !next.GetProperty("significant").GetBoolean())
            {
                await Assertions.Expect(mark).ToBeVisibleAsync();
                await Assertions.Expect(mark).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("Not significantly different .* p [=<] "));
                await Assertions.Expect(tr).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bns-next\b"));
            }
            else
                await Assertions.Expect(mark).ToBeHiddenAsync();
        }

        // The sensitivity table: one row per definition.
        var rankings = board.GetProperty("sensitivity").GetProperty("rankings").GetArrayLength();
        await Assertions.Expect(page.GetByTestId("sensitivity").Locator("tbody tr")).ToHaveCountAsync(rankings);

        // The fit controls ask the API for the chosen space and group, and the page states the fit it got.
        var probit = await page.RunAndWaitForRequestAsync(() => page.GetByTestId("fit-probit").CheckAsync(), r => IsLeaderboardRequest(r, "fit=probit"));
        Assert.Contains("fitOn=model", probit.Url);
        await Assertions.Expect(page.GetByTestId("fit-text")).ToContainTextAsync("in probit space");
        await Assertions.Expect(page.GetByTestId("fit-line")).ToHaveAttributeAsync("data-space", "probit");
        await BrowserFixture.BoardSettledAsync(page);
        await page.RunAndWaitForRequestAsync(() => page.GetByTestId("fitOn-non-human").CheckAsync(), r => IsLeaderboardRequest(r, "fitOn=non-human"));
        await Assertions.Expect(page.GetByTestId("fit-text")).ToContainTextAsync("that is not a human");
        var fitted = await GetAsync("/api/leaderboard?dataset=demo-val&fit=probit&fitOn=non-human");
        await Assertions.Expect(page.GetByTestId("fit-text"))
            .ToContainTextAsync($"over {fitted.GetProperty("fit").GetProperty("points").GetInt32()} of every uploaded entry");

        // The scope control: every image, on both datasets; the page shows the scope the API describes.
        await page.RunAndWaitForRequestAsync(() => page.GetByTestId("board-image-set").SelectOptionAsync("all"), r => IsLeaderboardRequest(r, "imageSet=all"));
        var all = await GetAsync("/api/leaderboard?dataset=demo-val&imageSet=all");
        await Assertions.Expect(page.GetByTestId("scope-description")).ToHaveTextAsync(all.GetProperty("scope").GetProperty("description").GetString()!);
        await Assertions.Expect(page.GetByTestId("board-image-set")).ToHaveValueAsync("all");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Two_rows_picked_on_the_leaderboard_open_their_paired_comparison()
    {
        var board = await GetAsync("/api/leaderboard?dataset=demo-val");
        var models = board.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("kind").GetString() == "model")
            .Select(r => r.GetProperty("slug").GetString()!).Take(2).ToList();
        Assert.Equal(2, models.Count);
        var (page, errors) = await OpenAsync("/leaderboard");

        await page.Locator($"tr[data-slug='{models[0]}']").GetByTestId("compare-pick").CheckAsync();
        await Assertions.Expect(page.GetByTestId("compare-link")).ToBeHiddenAsync();
        await page.Locator($"tr[data-slug='{models[1]}']").GetByTestId("compare-pick").CheckAsync();
        await page.GetByTestId("compare-link").ClickAsync();
        await page.WaitForURLAsync($"**/compare?dataset=demo-val&a={models[0]}&b={models[1]}");

        var compare = await GetAsync($"/api/compare?dataset=demo-val&a={models[0]}&b={models[1]}");
        var comparisons = compare.GetProperty("comparisons").EnumerateArray().ToList();
        await Assertions.Expect(page.GetByTestId("compare-table").Locator("tbody tr")).ToHaveCountAsync(comparisons.Count);
        var multiLabel = comparisons.Single(c => c.GetProperty("metric").GetString() == "multilabel");
        var cells = page.Locator("[data-testid=compare-table] tr[data-metric=multilabel] td");
        string[] counts = ["images", "bothRight", "onlyA", "onlyB", "bothWrong"];
        for (var i = 0; i < counts.Length; i++)
            await Assertions.Expect(cells.Nth(i + 1)).ToHaveTextAsync(multiLabel.GetProperty(counts[i]).GetInt64().ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(cells.Nth(6)).ToHaveTextAsync(Percent(multiLabel.GetProperty("accuracyA").GetDouble()));
        await Assertions.Expect(cells.Nth(10)).ToHaveTextAsync(multiLabel.GetProperty("significant").GetBoolean() ? "significant" : "n.s.");
        await Assertions.Expect(page.GetByTestId("compare-summary")).ToContainTextAsync(
            $"On {multiLabel.GetProperty("images").GetInt64().ToString("N0", CultureInfo.InvariantCulture)} images, {compare.GetProperty("a").GetProperty("displayName").GetString()}");

        // Changing an entry compares again and keeps the choice in the address.
        var human = board.GetProperty("rows").EnumerateArray().First(r => r.GetProperty("kind").GetString() == "human").GetProperty("slug").GetString()!;
        await page.GetByTestId("compare-b").SelectOptionAsync(human);
        await page.WaitForURLAsync($"**/compare?dataset=demo-val&a={models[0]}&b={human}");
        await Assertions.Expect(page.GetByTestId("compare-table").Locator("tr[data-metric=multilabel]")).ToBeVisibleAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_paper_view_shows_its_labelled_figure_its_table_and_the_mistakes()
    {
        var (page, errors) = await OpenAsync("/paper?dataset=demo-val");
        var paper = await GetAsync("/api/analysis/paper?dataset=demo-val");
        var points = paper.GetProperty("figure").GetProperty("points").EnumerateArray().ToList();
        var humans = points.Count(p => p.GetProperty("kind").GetString() == "human");
        Assert.True(humans >= 1);

        var figure = page.GetByTestId("paper-figure");
        await Assertions.Expect(figure.GetByTestId("point")).ToHaveCountAsync(points.Count);
        await Assertions.Expect(figure.GetByTestId("point-label")).ToHaveCountAsync(points.Count);
        await Assertions.Expect(figure.Locator("[data-testid=point][data-kind=human]")).ToHaveCountAsync(humans);
        await Assertions.Expect(figure.Locator("[data-testid=point-label].kind-human").First).ToHaveTextAsync(
            points.First(p => p.GetProperty("kind").GetString() == "human").GetProperty("name").GetString()!);
        await Assertions.Expect(figure.GetByTestId("identity-line")).ToHaveCountAsync(1);
        await Assertions.Expect(figure.GetByTestId("fit-line")).ToBeVisibleAsync();
        await Assertions.Expect(figure.GetByTestId("fit-band")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("fit-text")).ToContainTextAsync("in logit space");

        var table = paper.GetProperty("table").EnumerateArray().ToList();
        await Assertions.Expect(page.GetByTestId("paper-table").Locator("tbody tr")).ToHaveCountAsync(table.Count);
        var first = page.GetByTestId("paper-table").Locator("tbody tr").First.Locator("td");
        await Assertions.Expect(first.Nth(2)).ToHaveTextAsync(table[0].GetProperty("name").GetString()!);
        await Assertions.Expect(first.Nth(3)).ToContainTextAsync(Percent(table[0].GetProperty("original").GetProperty("value").GetDouble()));

        // The mistakes on both datasets, the counts linking to the images every human (model) gets wrong.
        var mistakes = paper.GetProperty("mistakes").EnumerateArray().ToList();
        var sections = page.GetByTestId("paper-mistakes").Locator("section");
        await Assertions.Expect(sections).ToHaveCountAsync(mistakes.Count);
        var original = mistakes[0];
        var humansWrong = sections.First.GetByTestId("humans-all-wrong");
        await Assertions.Expect(humansWrong).ToContainTextAsync($"{original.GetProperty("humansAllWrong").GetInt64().ToString("N0", CultureInfo.InvariantCulture)} images every human");
        await humansWrong.ClickAsync();
        await page.WaitForURLAsync("**/hard-images?by=humans&dataset=demo-val*");
        await Assertions.Expect(page.GetByTestId("hard-images")).ToContainTextAsync($"{original.GetProperty("humansAllWrong").GetInt64()} images");

        // The fit control of the figure asks again and keeps the choice in the address.
        await page.GoBackAsync();
        await page.RunAndWaitForRequestAsync(() => page.GetByTestId("fit-linear").CheckAsync(),
            r => r.Url.Contains("/api/analysis/paper?", StringComparison.Ordinal) && r.Url.Contains("fit=linear", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByTestId("fit-text")).ToContainTextAsync("on raw accuracies (linear)");
        Assert.Contains("fit=linear", page.Url);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task The_dataset_statistics_page_shows_what_the_review_found()
    {
        var (page, errors) = await OpenAsync("/browse/demo-val");
        await page.GetByTestId("dataset-statistics-link").ClickAsync();
        await page.WaitForURLAsync("**/datasets/demo-val/statistics");
        var statistics = await GetAsync("/api/datasets/demo-val/statistics");
        var subsets = statistics.GetProperty("subsets").EnumerateArray().ToList();

        var rows = page.GetByTestId("statistics-table").Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(subsets.Count);
        var all = subsets.Single(s => s.GetProperty("subset").GetString() == "all");
        var cells = rows.First.Locator("td");
        static string N(JsonElement e, string name) => e.GetProperty(name).GetInt64().ToString("N0", CultureInfo.InvariantCulture);
        await Assertions.Expect(cells.Nth(0)).ToHaveTextAsync("all");
        await Assertions.Expect(cells.Nth(1)).ToHaveTextAsync(N(all, "images"));
        await Assertions.Expect(cells.Nth(2)).ToContainTextAsync(N(all, "reviewed"));
        await Assertions.Expect(cells.Nth(4)).ToContainTextAsync(N(all, "multipleCorrect"));
        await Assertions.Expect(cells.Nth(6)).ToHaveTextAsync(N(all, "originalWrong"));
        await Assertions.Expect(cells.Nth(8)).ToHaveTextAsync(N(all, "problematic"));
        await Assertions.Expect(page.GetByTestId("consensus-rule")).ToHaveTextAsync(statistics.GetProperty("consensusRule").GetString()!);
        await Assertions.Expect(page.GetByTestId("agreement")).ToContainTextAsync(N(statistics.GetProperty("agreement"), "items"));
        await Assertions.Expect(page.GetByTestId("statistics-description")).ToHaveTextAsync(statistics.GetProperty("description").GetString()!);
        // The setting is for admins only.
        await Assertions.Expect(page.GetByTestId("wrong-original-toggle")).ToBeHiddenAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_admin_switches_the_papers_rule_for_wrong_original_labels_on_the_statistics_page()
    {
        var page = await fixture.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/datasets/demo-v2/statistics"));
        await page.GetByTestId("signin-name").FillAsync("demo-admin");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/datasets/demo-v2/statistics");

        var toggle = page.GetByTestId("wrong-original-toggle");
        await Assertions.Expect(toggle).ToBeVisibleAsync();
        await Assertions.Expect(toggle).Not.ToBeCheckedAsync();
        await Assertions.Expect(page.GetByTestId("wrong-original")).ToContainTextAsync("the setting is off");
        try
        {
            await toggle.CheckAsync();
            await Assertions.Expect(page.GetByTestId("wrong-original")).ToContainTextAsync("counts as problematic");
            var statistics = await GetAsync("/api/datasets/demo-v2/statistics");
            Assert.True(statistics.GetProperty("originalWrongIsProblematic").GetBoolean());
            await Assertions.Expect(page.GetByTestId("wrong-original"))
                .ToHaveTextAsync($"counts as problematic ({statistics.GetProperty("wrongOriginalImages").GetInt64().ToString("N0", CultureInfo.InvariantCulture)} images)");
            Assert.True((await GetAsync("/api/datasets/demo-v2")).GetProperty("originalWrongIsProblematic").GetBoolean());
        }
        finally
        {
            await toggle.UncheckAsync();
            await Assertions.Expect(page.GetByTestId("wrong-original")).ToContainTextAsync("the setting is off");
        }
        Assert.False((await GetAsync("/api/datasets/demo-v2")).GetProperty("originalWrongIsProblematic").GetBoolean());
        Assert.Empty(errors);
    }
}
