using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>
/// The leaderboard as people link to it (issue 17): its view in the address, the first visit on a board with entries,
/// the table's names, sort state and exports, and the phone layout. RELABEL_SCREENSHOTS=dir keeps screenshots to look at.
/// </summary>
public sealed class BoardViewBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static async Task ShotAsync(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("RELABEL_SCREENSHOTS");
        if (!string.IsNullOrEmpty(dir)) await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name + ".png"), FullPage = false });
    }

    private async Task<IPage> PageAsync(int width, int height)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
            { BaseURL = fixture.BaseUrl, ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return page;
    }

    private static readonly Regex Query = new(@"\?.*$");

    [Fact]
    public async Task Every_control_of_the_board_lives_in_the_address_and_back_and_forward_restore_it()
    {
        // A dataset without entries, even featured, is neither the first board nor offered in the picker.
        using (var admin = fixture.App.Admin())
        {
            await TestData.CreateDatasetAsync(admin, "aaa-empty", Relabel.Api.Features.Demo.DemoSeeder.Classes);
            Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync("/api/datasets/aaa-empty", new { featured = true })).StatusCode);
        }
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var board = await (await http.GetAsync("/api/leaderboard")).JsonAsync();
        Assert.Equal("demo-val", board.GetProperty("dataset").GetString());
        var entries = board.GetProperty("rows").GetArrayLength();
        Assert.True(entries > 0);
        var subset = board.GetProperty("subsets").EnumerateArray().Select(s => s.GetString()!).First(s => s != "all");

        var page = await PageAsync(1440, 900);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        var failed = new List<string>();
        page.Response += (_, response) => { if (response.Status >= 400) failed.Add($"{response.Status} {response.Url}"); };
        await page.GotoAsync("/");
        var rows = page.GetByTestId("board-rows").Locator("tr");
        await Assertions.Expect(rows).ToHaveCountAsync(entries);
        await Assertions.Expect(page.GetByTestId("board-empty")).ToBeHiddenAsync();
        await Assertions.Expect(page.GetByTestId("board-dataset")).ToHaveValueAsync("demo-val");
        Assert.DoesNotContain("aaa-empty", await page.GetByTestId("board-dataset").Locator("option").EvaluateAllAsync<string[]>("o => o.map(x => x.value)"));
        await Assertions.Expect(page.GetByTestId("board-intro")).ToContainTextAsync("Multi-label accuracy");
        await Assertions.Expect(page.GetByTestId("definition-text")).ToBeVisibleAsync();
        // No failed request on an anonymous page (GET /api/auth/me answers 200 with no user).
        Assert.Empty(failed);
        await ShotAsync(page, "board-1440x900");

        // Names, not slugs, with a tooltip; sort state as aria-sort and an arrow; tabular numbers on the right.
        await Assertions.Expect(page.Locator("th:has(button[data-sort=drop])")).ToHaveAttributeAsync("title", new Regex("^Drop: original minus shifted"));
        await Assertions.Expect(page.Locator("button[data-sort='subset:dogs']")).ToHaveTextAsync("Dogs");
        await Assertions.Expect(page.Locator("th:has(button[data-sort=rank])")).ToHaveAttributeAsync("aria-sort", "ascending");
        var top1 = page.GetByTestId("top1").First;
        Assert.Equal("right", await top1.EvaluateAsync<string>("e => getComputedStyle(e).textAlign"));
        Assert.Contains("tabular-nums", await top1.EvaluateAsync<string>("e => getComputedStyle(e).fontVariantNumeric"));
        // Download and cite the view shown.
        var csv = await DownloadCsvAsync(page);
        Assert.Equal(entries + 1, csv.TrimEnd('\n').Split('\n').Length);
        Assert.Matches("format=timm", (await page.GetByTestId("board-timm").GetAttributeAsync("href"))!);
        await Assertions.Expect(page.GetByTestId("board-cite")).ToContainTextAsync($"label version {board.GetProperty("labelVersion").GetInt64()}");

        // Each control writes the address.
        // Each change waits for the board it asked for (a click aimed before a re-render can land beside its target: CI saw
        // a radio stay unchecked).
        async Task ExpectQueryAsync(string part)
        {
            // The address as it is: the controls change it in place (history.replaceState/pushState), which is no
            // navigation. WaitForURL also waits for a load event, and about one run in eight it timed out with the
            // address already right.
            await Assertions.Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(part)));
            await BrowserFixture.BoardSettledAsync(page);
        }
        await page.GetByTestId("board-subset").SelectOptionAsync(subset);
        await ExpectQueryAsync($"subset={Uri.EscapeDataString(subset)}");
        await page.GetByTestId("board-image-set").SelectOptionAsync("all");
        await ExpectQueryAsync("imageSet=all");
        // On every image some top-1s are pending: the provisional badge says how many, and the two bounds.
        var all = await (await http.GetAsync("/api/leaderboard?imageSet=all")).JsonAsync();
        Assert.Contains(all.GetProperty("rows").EnumerateArray(), r => r.GetProperty("multiLabel").GetProperty("provisional").GetBoolean());
        var provisional = page.GetByTestId("provisional").Locator("visible=true").First;
        await Assertions.Expect(provisional).ToHaveAttributeAsync("title", new Regex(@"^Provisional: \d+ top-1 labels? (is|are) not reviewed yet\. Counted wrong .* %; counted right, .* %\.$"));
        await page.GetByTestId("unclear-correct").CheckAsync();
        await ExpectQueryAsync("unclear=correct");
        await page.GetByTestId("average-per-class").CheckAsync();
        await ExpectQueryAsync("average=per-class");
        await page.Locator("button[data-sort=top1]").ClickAsync();
        await ExpectQueryAsync("sort=top1");
        await page.GetByTestId("kind-human").UncheckAsync();
        await ExpectQueryAsync("kinds=model%2Cmodel-extra-data%2Censemble");
        await page.GetByTestId("board-filter").FillAsync("res");
        await ExpectQueryAsync("q=res");
        await page.GetByTestId("fit-probit").CheckAsync();
        await ExpectQueryAsync("fit=probit");
        await page.GetByTestId("fitOn-non-human").CheckAsync();
        await ExpectQueryAsync("fitOn=non-human");
        var shared = page.Url;

        // A shared link opens the same view.
        var other = await PageAsync(1440, 900);
        await other.GotoAsync(shared);
        await Assertions.Expect(other.GetByTestId("label-version")).ToContainTextAsync("'unclear' counts correct");
        await Assertions.Expect(other.GetByTestId("label-version")).ToContainTextAsync("mean over classes");
        await Assertions.Expect(other.GetByTestId("board-subset")).ToHaveValueAsync(subset);
        await Assertions.Expect(other.GetByTestId("board-image-set")).ToHaveValueAsync("all");
        await Assertions.Expect(other.GetByTestId("unclear-correct")).ToBeCheckedAsync();
        await Assertions.Expect(other.GetByTestId("average-per-class")).ToBeCheckedAsync();
        await Assertions.Expect(other.Locator("th:has(button[data-sort=top1])")).ToHaveAttributeAsync("aria-sort", "descending");
        await Assertions.Expect(other.GetByTestId("kind-human")).Not.ToBeCheckedAsync();
        await Assertions.Expect(other.GetByTestId("board-filter")).ToHaveValueAsync("res");
        await Assertions.Expect(other.GetByTestId("fit-probit")).ToBeCheckedAsync();
        await Assertions.Expect(other.GetByTestId("fitOn-non-human")).ToBeCheckedAsync();
        await Assertions.Expect(other.Locator("[data-testid=board-rows] tr[data-kind=human]")).ToHaveCountAsync(0);
        await Assertions.Expect(other.GetByTestId("fit-line")).ToHaveAttributeAsync("data-space", "probit");

        // Back undoes one change at a time, forward redoes it.
        await page.EvaluateAsync("() => history.back()");
        await Assertions.Expect(page.GetByTestId("fitOn-model")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByTestId("fit-probit")).ToBeCheckedAsync();
        await page.EvaluateAsync("() => history.back()");
        await Assertions.Expect(page.GetByTestId("fit-logit")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByTestId("board-filter")).ToHaveValueAsync("res");
        await page.EvaluateAsync("() => history.forward()");
        await Assertions.Expect(page.GetByTestId("fit-probit")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByTestId("unclear-correct")).ToBeCheckedAsync();
        Assert.Empty(scriptErrors);
    }

    /// <summary>The CSV the page's "Download CSV" button saves.</summary>
    private static async Task<string> DownloadCsvAsync(IPage page)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("board-csv").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename, StringComparison.Ordinal);
        await using var stream = await download.CreateReadStreamAsync();
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    private static async Task<string[]> HeadersAsync(IPage page) =>
        (await page.Locator("table.leaderboard thead th").AllInnerTextsAsync()).Select(t => t.Replace("▲", "").Replace("▼", "").Trim()).ToArray();

    [Fact]
    public async Task With_one_subset_chosen_the_table_and_its_csv_show_that_subsets_figures_only_and_say_which_images()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var board = await (await http.GetAsync("/api/leaderboard?dataset=demo-val")).JsonAsync();
        var subsets = board.GetProperty("subsets").EnumerateArray().Select(s => s.GetString()!).Where(s => s != "all").ToList();
        Assert.Contains("dogs", subsets);
        var dogs = await (await http.GetAsync("/api/leaderboard?dataset=demo-val&subset=dogs")).JsonAsync();
        var graded = dogs.GetProperty("scope").GetProperty("graded").GetInt64();

        var page = await PageAsync(1440, 900);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        // Sorted by a subset column that the dogs view will not show.
        await page.GotoAsync("/leaderboard?dataset=demo-val&sort=subset%3Aobjects");
        await Assertions.Expect(page.GetByTestId("board-rows").Locator("tr").First).ToBeVisibleAsync();
        // Every image: one breakdown column per subset, named, between Top-5 and the shifted column.
        var headers = await HeadersAsync(page);
        var names = subsets.Select(s => char.ToUpperInvariant(s[0]) + s[1..].Replace('-', ' ')).ToList();
        var top5 = Array.IndexOf(headers, "Top-5");
        Assert.Equal(names, headers.Skip(top5 + 1).Take(names.Count));
        await Assertions.Expect(page.GetByTestId("board-caption")).ToContainTextAsync("break the headline down by subset");
        await Assertions.Expect(page.Locator("th:has(button[data-sort='subset:objects'])")).ToHaveAttributeAsync("aria-sort", "descending");

        await page.GetByTestId("board-subset").SelectOptionAsync("dogs");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("subset=dogs"));
        await Assertions.Expect(page.GetByTestId("board-caption")).ToContainTextAsync($"Subset 'dogs': every figure (the shifted ones too) is on the {graded.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} graded images");
        await Assertions.Expect(page.Locator("button[data-sort^='subset:']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("td[data-subset]")).ToHaveCountAsync(0);
        headers = await HeadersAsync(page);
        foreach (var name in names) Assert.DoesNotContain(name, headers);
        Assert.Contains("Top-1", headers);
        await Assertions.Expect(page.Locator("th:has(button[data-sort=top1])")).ToHaveAttributeAsync("title", new Regex("On the subset 'dogs' only\\.$"));
        // The hidden column sorts nothing: the rank order stands in.
        await Assertions.Expect(page.Locator("th:has(button[data-sort=rank])")).ToHaveAttributeAsync("aria-sort", "ascending");
        await ShotAsync(page, "board-dogs-1440x900");

        // The CSV of this view: the same rows, no other subset's column, the subset on every line.
        var csv = (await DownloadCsvAsync(page)).TrimEnd('\n').Split('\n');
        var head = csv[0].Split(',');
        Assert.DoesNotContain(head, h => h.StartsWith("subset_", StringComparison.Ordinal));
        var subsetColumn = Array.IndexOf(head, "subset");
        Assert.Equal(dogs.GetProperty("rows").GetArrayLength(), csv.Length - 1);
        Assert.All(csv.Skip(1), line => Assert.Equal("dogs", CsvCells.Split(line)[subsetColumn]));

        // Back on every image, the breakdown returns, in the CSV too.
        await page.GetByTestId("board-subset").SelectOptionAsync("all");
        await Assertions.Expect(page.Locator("button[data-sort^='subset:']")).ToHaveCountAsync(subsets.Count);
        var all = (await DownloadCsvAsync(page)).Split('\n')[0].Split(',');
        Assert.Equal(subsets.Select(s => "subset_" + s), all.Where(h => h.StartsWith("subset_", StringComparison.Ordinal)));

        // On a phone the dogs view shows the same columns, in its own scrolling area.
        var phone = await PageAsync(390, 844);
        await phone.GotoAsync("/leaderboard?dataset=demo-val&subset=dogs");
        await Assertions.Expect(phone.GetByTestId("board-caption")).ToContainTextAsync("Subset 'dogs'");
        await Assertions.Expect(phone.Locator("button[data-sort^='subset:']")).ToHaveCountAsync(0);
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        await ShotAsync(phone, "board-dogs-390x844");
        Assert.Empty(scriptErrors);
    }

    private static readonly Regex CsvCells = new(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");

    [Fact]
    public async Task The_plot_has_a_legend_labels_for_the_humans_and_the_best_entries_and_a_click_opens_the_model()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var board = await (await http.GetAsync("/api/leaderboard?dataset=demo-val")).JsonAsync();
        var plotted = board.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("shift").ValueKind == JsonValueKind.Object && r.GetProperty("shift").GetProperty("value").ValueKind == JsonValueKind.Number)
            .ToList();
        var humans = plotted.Where(r => r.GetProperty("kind").GetString() == "human").Select(r => r.GetProperty("slug").GetString()!).ToList();
        var best = plotted.Where(r => r.GetProperty("kind").GetString() != "human")
            .OrderByDescending(r => r.GetProperty("value").GetDouble()).Take(3).Select(r => r.GetProperty("slug").GetString()!).ToList();
        Assert.NotEmpty(humans);

        var page = await PageAsync(1440, 900);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/leaderboard?dataset=demo-val");
        await Assertions.Expect(page.GetByTestId("point")).ToHaveCountAsync(plotted.Count);
        // A legend entry per kind of mark and for each line; the lines labelled in the plot, the fit with its numbers.
        await Assertions.Expect(page.GetByTestId("plot-legend").Locator("li")).ToHaveCountAsync(6);
        await Assertions.Expect(page.GetByTestId("plot-legend")).ToContainTextAsync("Model, extra data");
        await Assertions.Expect(page.GetByTestId("identity-label")).ToHaveTextAsync("dashed: y = x (no drop)");
        await Assertions.Expect(page.GetByTestId("fit-label")).ToHaveTextAsync(new Regex(@"^red: fit, slope -?\d+\.\d\d, r = -?\d\.\d\d, n = \d+$"));
        // Direct labels: every human and the three best other entries, no more.
        var labelled = await page.GetByTestId("point-label").EvaluateAllAsync<string[]>("l => l.map(x => x.dataset.slug)");
        Assert.Equal(humans.Concat(best).Order(), labelled.Order());
        var dir = Environment.GetEnvironmentVariable("RELABEL_SCREENSHOTS");
        if (!string.IsNullOrEmpty(dir)) await page.Locator("section.plot").ScreenshotAsync(new() { Path = Path.Combine(dir, "plot.png") });

        // A click on a mark opens the model's page.
        var slug = best[0];
        await page.Locator($"[data-testid=point][data-slug='{slug}']").ClickAsync();
        await page.WaitForURLAsync($"**/models/{slug}?dataset=demo-val");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task Hovering_a_mark_shows_its_tooltip_at_the_pointer_and_the_keyboard_walks_the_marks_by_x_and_opens_one()
    {
        var board = await fixture.GetJsonAsync("/api/leaderboard?dataset=demo-val");
        var plotted = board.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("shift").ValueKind == JsonValueKind.Object && r.GetProperty("shift").GetProperty("value").ValueKind == JsonValueKind.Number)
            .Select(r => (Slug: r.GetProperty("slug").GetString()!, Name: r.GetProperty("displayName").GetString()!,
                X: r.GetProperty("value").GetDouble(), Y: r.GetProperty("shift").GetProperty("value").GetDouble()))
            .OrderBy(p => p.X).ThenBy(p => p.Y).ToList();
        Assert.True(plotted.Count >= 3);

        var page = await PageAsync(1440, 900);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/leaderboard?dataset=demo-val");
        await Assertions.Expect(page.GetByTestId("point")).ToHaveCountAsync(plotted.Count);
        await BrowserFixture.BoardSettledAsync(page);
        // One tab stop for the whole plot.
        await Assertions.Expect(page.Locator("[data-testid=point][tabindex='0']")).ToHaveCountAsync(1);

        // Hover: the tooltip next to the pointer, inside the plot area; the mark ringed, the others dimmed.
        var frame = (await page.Locator("section.plot .scatter .frame").BoundingBoxAsync())!;
        var tooltip = page.GetByTestId("plot-tooltip");
        foreach (var p in new[] { plotted[0], plotted[^1] })
        {
            var mark = page.Locator($"[data-testid=point][data-slug='{p.Slug}'] .mark");
            await mark.ScrollIntoViewIfNeededAsync();
            var box = (await mark.BoundingBoxAsync())!;
            frame = (await page.Locator("section.plot .scatter .frame").BoundingBoxAsync())!;
            var (x, y) = (box.X + box.Width / 2, box.Y + box.Height / 2);
            await page.Mouse.MoveAsync(x, y);
            await Assertions.Expect(tooltip).ToBeVisibleAsync();
            await Assertions.Expect(tooltip).ToContainTextAsync(p.Name);
            var tip = (await tooltip.BoundingBoxAsync())!;
            Assert.True(tip.X >= frame.X - 1 && tip.Y >= frame.Y - 1 && tip.X + tip.Width <= frame.X + frame.Width + 1 && tip.Y + tip.Height <= frame.Y + frame.Height + 1,
                $"tooltip {tip.X},{tip.Y} {tip.Width}x{tip.Height} outside the plot area {frame.X},{frame.Y} {frame.Width}x{frame.Height}");
            // Beside the pointer: its nearest corner within 40 px of it.
            var dx = Math.Min(Math.Abs(tip.X - x), Math.Abs(tip.X + tip.Width - x));
            var dy = Math.Min(Math.Abs(tip.Y - y), Math.Abs(tip.Y + tip.Height - y));
            Assert.True(dx <= 40 && dy <= 40, $"tooltip at {tip.X},{tip.Y} ({tip.Width}x{tip.Height}) is not beside the pointer at {x},{y}");
            await Assertions.Expect(page.Locator($"[data-testid=point][data-slug='{p.Slug}']")).ToHaveClassAsync(new Regex(@"\bactive\b"));
            var ring = (await page.GetByTestId("point-ring").BoundingBoxAsync())!;
            Assert.True(Math.Abs(ring.X + ring.Width / 2 - x) < 2 && Math.Abs(ring.Y + ring.Height / 2 - y) < 2, "the ring is not around the hovered mark");
            Assert.True(ring.Width > box.Width, "the ring is not larger than the mark");
            var other = plotted.First(q => q.Slug != p.Slug).Slug;
            Assert.True(await page.Locator($"[data-testid=point][data-slug='{other}']").EvaluateAsync<double>("e => Number(getComputedStyle(e).opacity)") < 1);
        }
        await ShotAsync(page, "plot-hover-1440x900");
        await page.Mouse.MoveAsync(5, 5);
        await Assertions.Expect(tooltip).ToBeHiddenAsync();

        // Keyboard: Tab from the fit controls lands on the plot's first mark by x; ArrowRight goes to the next, announced by
        // its label; Escape leaves the marks for the plot area; Tab comes back to the mark last focused, and Enter opens it as a click does.
        await page.GetByTestId("fitOn-model").FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        async Task<string?> FocusedSlugAsync() => await page.EvaluateAsync<string?>("() => document.activeElement?.dataset?.slug ?? null");
        Assert.Equal(plotted[0].Slug, await FocusedSlugAsync());
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal(plotted[1].Slug, await FocusedSlugAsync());
        var focused = page.Locator("[data-testid=point]:focus");
        await Assertions.Expect(focused).ToHaveAttributeAsync("aria-label", new Regex($@"^{Regex.Escape(plotted[1].Name)}: x \d+\.\d\d %, y \d+\.\d\d %"));
        await Assertions.Expect(focused).ToHaveAttributeAsync("role", "link");
        await Assertions.Expect(focused).ToHaveClassAsync(new Regex(@"\bactive\b"));
        await Assertions.Expect(tooltip).ToContainTextAsync(plotted[1].Name);
        await ShotAsync(page, "plot-keyboard-1440x900");
        await page.Keyboard.PressAsync("Escape");
        Assert.Null(await FocusedSlugAsync());
        await Assertions.Expect(tooltip).ToBeHiddenAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.classList.contains('scatter-area')"));
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal(plotted[1].Slug, await FocusedSlugAsync());
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync($"**/models/{plotted[1].Slug}?dataset=demo-val");

        // On a phone, in dark mode, the plot scales down and the tooltip of the rightmost mark stays on the screen.
        var phone = await PageAsync(390, 844);
        await phone.EmulateMediaAsync(new() { ColorScheme = ColorScheme.Dark });
        phone.PageError += (_, error) => scriptErrors.Add(error);
        await phone.GotoAsync("/leaderboard?dataset=demo-val");
        var last = phone.Locator($"[data-testid=point][data-slug='{plotted[^1].Slug}'] .mark");
        await last.ScrollIntoViewIfNeededAsync();
        await last.HoverAsync(new() { Force = true });
        var phoneTip = phone.GetByTestId("plot-tooltip");
        await Assertions.Expect(phoneTip).ToBeVisibleAsync();
        var shown = (await phoneTip.BoundingBoxAsync())!;
        Assert.True(shown.X >= 0 && shown.X + shown.Width <= 390, $"the tooltip {shown.X}+{shown.Width} leaves the phone's screen");
        await phone.Locator("section.plot").ScrollIntoViewIfNeededAsync();
        await ShotAsync(phone, "plot-hover-390x844-dark");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task The_label_version_picker_lives_in_the_address_and_the_cite_line()
    {
        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        var board = await (await http.GetAsync("/api/leaderboard?dataset=demo-val")).JsonAsync();
        var current = board.GetProperty("currentLabelVersion").GetInt64();
        var earlier = current - 1;
        Assert.True(earlier >= 0);
        var page = await PageAsync(1280, 720);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/leaderboard?dataset=demo-val");
        await Assertions.Expect(page.GetByTestId("board-rows").Locator("tr").First).ToBeVisibleAsync();
        var picker = page.GetByLabel("Label version");
        await Assertions.Expect(picker.Locator("option")).ToHaveCountAsync((int)Math.Min(50, current) + 1);

        await page.RunAndWaitForRequestAsync(() => picker.SelectOptionAsync(earlier.ToString()),
            r => r.Url.Contains("/api/leaderboard?", StringComparison.Ordinal) && r.Url.Contains($"version={earlier}", StringComparison.Ordinal));
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"version={earlier}"));
        await Assertions.Expect(page.GetByTestId("label-version")).ToContainTextAsync($"Label version {earlier} (current: {current})");
        await Assertions.Expect(page.GetByTestId("board-cite")).ToContainTextAsync($"label version {earlier},");
        await Assertions.Expect(page.GetByTestId("board-cite")).ToContainTextAsync($"version={earlier}");

        // The address alone restores it, and back returns to the current version.
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByLabel("Label version")).ToHaveValueAsync(earlier.ToString());
        await Assertions.Expect(page.GetByTestId("label-version")).ToContainTextAsync($"Label version {earlier} (current: {current})");
        await page.GoBackAsync();
        await Assertions.Expect(page.GetByLabel("Label version")).ToHaveValueAsync("");
        await Assertions.Expect(page.GetByTestId("label-version")).ToContainTextAsync($"Label version {current}");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task On_a_phone_the_table_scrolls_in_its_own_area_with_the_model_column_sticky_and_the_page_does_not()
    {
        var page = await PageAsync(390, 844);
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/leaderboard");
        await Assertions.Expect(page.GetByTestId("board-rows").Locator("tr").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("statistics-status")).ToHaveAttributeAsync("data-status", "ready", new() { Timeout = 90_000 });
        await ShotAsync(page, "board-390x844");
        var overflow = await page.EvaluateAsync<JsonElement>(
            """
            () => {
              const scroller = document.querySelector(".page-leaderboard table.leaderboard").parentElement;
              const box = document.querySelector('.sensitivity-box');
              return { page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                       table: scroller.scrollWidth, area: scroller.clientWidth,
                       box: getComputedStyle(box).overflowX + ' ' + box.getBoundingClientRect().width + ' ' + box.parentElement.className,
                       sticky: getComputedStyle(document.querySelector('td.model-cell')).position,
                       // What sticks out, to name in a failure.
                       wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                         && !e.closest('.table-scroll') && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
                         .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || '')) };
            }
            """);
        Assert.True(overflow.GetProperty("page").GetInt32() <= overflow.GetProperty("viewport").GetInt32(), overflow.ToString());
        Assert.True(overflow.GetProperty("table").GetInt32() > overflow.GetProperty("area").GetInt32(), overflow.ToString());
        Assert.Equal("sticky", overflow.GetProperty("sticky").GetString());
        // The filters fold into one control; opened, they fit the width too.
        var filters = page.GetByTestId("board-filters");
        Assert.False(await filters.EvaluateAsync<bool>("d => d.open"));
        await Assertions.Expect(page.GetByTestId("board-dataset")).ToBeHiddenAsync();
        await filters.Locator("summary").ClickAsync();
        await Assertions.Expect(page.GetByTestId("board-dataset")).ToBeVisibleAsync();
        await ShotAsync(page, "board-390x844-filters");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the opened filters make the page wider than the phone");
        // Scrolled sideways, the model's name stays in view.
        await page.Locator(".page-leaderboard .table-scroll:has(table.leaderboard)").EvaluateAsync("e => { e.scrollLeft = 600; }");
        var name = page.Locator("td.model-cell a").First;
        var box = await name.BoundingBoxAsync();
        Assert.True(box is not null && box.X >= 0 && box.X < 390, box?.X.ToString());
        await name.ScrollIntoViewIfNeededAsync();
        await ShotAsync(page, "board-390x844-scrolled");
        Assert.Empty(scriptErrors);
    }
}
