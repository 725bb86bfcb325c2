using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class ReviewBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    [Fact]
    public async Task A_reviewer_reviews_an_image_with_the_keyboard_only_and_undoes_it()
    {
        // The demo reviewer's verdicts are loaded, with some images left to review.
        Assert.True(await ScalarAsync<long>(
            "select count(*) from verdict_events e join users u on u.id = e.reviewer_id where u.name = 'demo-reviewer'") > 1000);
        Assert.True(await ScalarAsync<long>("select count(*) from review_items where state = 'pending'") > 100);

        var page = await fixture.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/review?dataset=demo-val"));
        await page.GetByTestId("signin-name").FillAsync("demo-reviewer");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");

        var panel = page.Locator("[data-testid=review-panel][data-image-id]");
        await Assertions.Expect(panel).ToHaveCountAsync(1);
        var imageId = long.Parse((await panel.GetAttributeAsync("data-image-id"))!);
        var rows = page.GetByTestId("review-row");
        var rowCount = await rows.CountAsync();
        Assert.True(rowCount >= 1);
        await page.WaitForFunctionAsync("() => { const img = document.querySelector('[data-testid=review-image]'); return img.complete && img.naturalWidth > 0; }");

        // Row 1 correct (the focus moves down by itself), every other row wrong, flag the image, submit.
        await page.Keyboard.PressAsync("1");
        for (var i = 1; i < rowCount; i++) await page.Keyboard.PressAsync("2");
        await page.Keyboard.PressAsync("k");
        await page.Keyboard.PressAsync("j");
        await page.Keyboard.PressAsync("p");
        await Assertions.Expect(page.GetByTestId("review-flag")).ToBeCheckedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("review-today")).ToContainTextAsync("you today:");

        var stored = await ScalarAsync<string>(
            """
            select string_agg(e.verdict, ',' order by r.wnid = i.original_wnid desc, r.id)
            from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
            join users u on u.id = e.reviewer_id
            where r.image_id = @imageId and u.name = 'demo-reviewer'
            """,
            new { imageId });
        Assert.Equal(string.Join(',', new[] { "correct" }.Concat(Enumerable.Repeat("wrong", rowCount - 1))), stored);
        Assert.True(await ScalarAsync<bool>("select problematic from image_states where image_id = @imageId", new { imageId }));
        Assert.Equal("wrong-original-label", await ScalarAsync<string>("select reason from image_states where image_id = @imageId", new { imageId }));

        // u undoes the submit with new events and shows the image again, with the choices made (not "unreviewed").
        await page.Keyboard.PressAsync("u");
        await Assertions.Expect(page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("review-status")).ToContainTextAsync("Undid the submit");
        await Assertions.Expect(page.GetByTestId("review-flag")).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByTestId("review-bar-flag")).ToContainTextAsync("Flagged problematic");
        Assert.False(await ScalarAsync<bool>("select problematic from image_states where image_id = @imageId", new { imageId }));
        Assert.Equal(rowCount, await ScalarAsync<long>(
            """
            select count(*) from verdict_events e join review_items r on r.id = e.item_id
            where r.image_id = @imageId and e.verdict = 'unreviewed'
            """,
            new { imageId }));
        await Assertions.Expect(page.GetByTestId("review-row").First).ToHaveAttributeAsync("data-choice", "correct");
        for (var i = 1; i < rowCount; i++) await Assertions.Expect(rows.Nth(i)).ToHaveAttributeAsync("data-choice", "wrong");
        Assert.Empty(scriptErrors);
    }

    private async Task<IPage> SignInAsync(string name, string next, List<string> scriptErrors)
    {
        var page = await fixture.NewPageAsync();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString(next));
        await page.GetByTestId("signin-name").FillAsync(name);
        // The demo's accounts have the test settings' password; RelabelApp.UserAsync gives "<name>-password".
        await page.GetByTestId("signin-password").FillAsync(name.StartsWith("demo-") ? TestDatabase.DemoPassword : name + "-password");
        await page.Keyboard.PressAsync("Enter");
        return page;
    }

    [Fact]
    public async Task A_reviewer_whose_image_changed_meanwhile_is_told_nothing_was_saved_and_sees_it_afresh()
    {
        const string Tench = "n01440764", Goldfish = "n01443537";
        var app = fixture.App;
        var images = await ReviewTestData.CreateDatasetAsync(app, "stale-ui", Tench);
        await ReviewTestData.AddPredictionsAsync(app, "stale-ui", "stale-ui-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        var imageId = images["img_1"];
        using (await app.UserAsync("stale-ui-ann", "reviewer")) { }
        using var bob = await app.UserAsync("stale-ui-bob", "reviewer");
        var scriptErrors = new List<string>();

        var page = await SignInAsync("stale-ui-ann", "/review?dataset=stale-ui", scriptErrors);
        await Assertions.Expect(page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("review-row")).ToHaveCountAsync(2);
        var goldfish = page.Locator($"[data-testid=review-row][data-wnid='{Goldfish}']");
        await Assertions.Expect(goldfish.Locator(".state")).ToHaveTextAsync("pending");

        // The other session saves first, on the same image.
        Assert.Equal(HttpStatusCode.OK, (await bob.SubmitAsync(await bob.ReviewAsync(imageId),
            new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "wrong" })).StatusCode);

        // Ann submits what she loaded: refused (409), told so, and shown the image as it is now with her choices kept
        // and the rows the other change touched marked.
        await page.Keyboard.PressAsync("1");
        await page.Keyboard.PressAsync("1");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-status")).ToHaveTextAsync(new Regex(
            "^Someone else changed this image meanwhile: nothing was saved. Your choices are kept"));
        await Assertions.Expect(goldfish.Locator(".state")).ToHaveTextAsync("wrong");
        await Assertions.Expect(goldfish).ToHaveAttributeAsync("data-choice", "correct");
        await Assertions.Expect(goldfish.GetByTestId("changed-by-other")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=review-row][data-wnid='{Tench}']")).ToHaveAttributeAsync("data-choice", "correct");
        await Assertions.Expect(page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']")).ToHaveCountAsync(1);
        const string AnnsEvents =
            """
            select count(*) from verdict_events e join review_items r on r.id = e.item_id join users u on u.id = e.reviewer_id
            where r.image_id = @imageId and u.name = 'stale-ui-ann'
            """;
        Assert.Equal(0, await ScalarAsync<long>(AnnsEvents, new { imageId }));

        // One key resubmits her choices on the fresh versions.
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-status")).ToHaveTextAsync("Saved img_1.");
        Assert.Equal(2, await ScalarAsync<long>(AnnsEvents, new { imageId }));
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task The_desk_for_an_image_with_8_candidates_fits_1440x900_with_its_status_bar_and_submit_in_view()
    {
        var classes = Relabel.Api.Features.Demo.DemoSeeder.Classes.Take(8).ToArray();
        var app = fixture.App;
        using (var admin = app.Admin())
        {
            await TestData.CreateDatasetAsync(admin, "eight", classes);
            var manifest = await admin.PostAsync("/api/datasets/eight/images/manifest", new StringContent($"img_1,{classes[0]}", System.Text.Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        }
        for (var m = 1; m < 8; m++)
            await ReviewTestData.AddPredictionsAsync(app, "eight", $"eight-m{m}", new Dictionary<string, string> { ["img_1"] = classes[m] });
        using (await app.UserAsync("eight-rev", "reviewer")) { }
        var scriptErrors = new List<string>();
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
            { BaseURL = fixture.BaseUrl, ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/review?dataset=eight"));
        await page.GetByTestId("signin-name").FillAsync("eight-rev");
        await page.GetByTestId("signin-password").FillAsync("eight-rev-password");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-row")).ToHaveCountAsync(8);

        // The status bar, every row's choices and the submit button are on the first screen.
        await page.WaitForFunctionAsync("() => { const img = document.querySelector('[data-testid=review-image]'); return img && img.complete; }");
        var dir = Environment.GetEnvironmentVariable("RELABEL_SCREENSHOTS");
        if (!string.IsNullOrEmpty(dir)) await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "review-1440x900.png") });
        async Task ExpectInViewAsync(ILocator locator)
        {
            var box = await locator.BoundingBoxAsync();
            Assert.True(box is not null && box.Y >= 0 && box.Y + box.Height <= 900, $"{locator}: {box?.Y} + {box?.Height}");
        }
        await ExpectInViewAsync(page.GetByTestId("review-bar"));
        await ExpectInViewAsync(page.GetByTestId("review-submit"));
        await ExpectInViewAsync(page.GetByTestId("review-row").Nth(7).Locator(".choices"));
        // Nothing sticks out sideways.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));

        // A key's effect shows in the bar: the flag.
        await page.Keyboard.PressAsync("p");
        await Assertions.Expect(page.GetByTestId("review-bar-flag")).ToContainTextAsync("Flagged problematic");
        // Scrolled down, the bar stays at the top.
        await page.Mouse.WheelAsync(0, 600);
        await page.WaitForTimeoutAsync(200);
        var bar = await page.GetByTestId("review-bar").BoundingBoxAsync();
        Assert.True(bar is not null && bar.Y >= 0 && bar.Y < 5, bar?.Y.ToString());
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task An_admin_settles_a_conflict_from_the_conflict_queue_and_a_reviewer_sees_no_adjudication_control()
    {
        const string Tench = "n01440764", Goldfish = "n01443537";
        var app = fixture.App;
        using var admin = app.Admin();
        var images = await ReviewTestData.CreateDatasetAsync(app, "adjudicate", Tench, Tench, Tench);
        await ReviewTestData.AddPredictionsAsync(app, "adjudicate", "adjudicate-m", images.Keys.ToDictionary(f => f, _ => Goldfish));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/datasets/adjudicate/consensus", new { rule = "agreement:2" })).StatusCode);
        using var ann = await app.UserAsync("adj-ann", "reviewer");
        using var bob = await app.UserAsync("adj-bob", "reviewer");
        foreach (var id in images.Values)
        {
            Assert.Equal(HttpStatusCode.OK, (await ann.SubmitAsync(await ann.ReviewAsync(id), new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "correct" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await bob.SubmitAsync(await bob.ReviewAsync(id), new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "wrong" })).StatusCode);
        }
        Assert.Equal(3, await ScalarAsync<long>(
            "select count(*) from review_items where image_id = any(@ids) and state = 'conflict'", new { ids = images.Values.ToArray() }));
        var scriptErrors = new List<string>();
        const string ConflictQueue = "/review?dataset=adjudicate&mode=conflicts";

        // A reviewer sees the conflict marked and the queue switch, but neither the control nor who said what.
        var reviewer = await SignInAsync("demo-reviewer", ConflictQueue, scriptErrors);
        await Assertions.Expect(reviewer.Locator("[data-testid=review-panel][data-image-id]")).ToHaveCountAsync(1);
        var conflictRow = reviewer.Locator($"[data-testid=review-row][data-wnid='{Goldfish}']");
        await Assertions.Expect(conflictRow).ToHaveClassAsync(new Regex(@"\bconflict\b"));
        await Assertions.Expect(conflictRow.Locator(".state")).ToHaveTextAsync("conflict");
        await Assertions.Expect(reviewer.Locator("[data-testid=review-modes] a[aria-current=page]")).ToHaveAttributeAsync("data-mode", "conflicts");
        await Assertions.Expect(reviewer.GetByTestId("review-row")).ToHaveCountAsync(2);
        foreach (var control in await reviewer.GetByTestId("review-adjudicate").AllAsync()) await Assertions.Expect(control).ToBeHiddenAsync();
        foreach (var line in await reviewer.GetByTestId("review-verdicts").AllAsync()) await Assertions.Expect(line).ToBeHiddenAsync();
        await Assertions.Expect(reviewer.GetByTestId("review-keys")).Not.ToContainTextAsync("adjudicate");
        // Shift+digit does nothing for a reviewer.
        await reviewer.Keyboard.PressAsync("j");
        await reviewer.Keyboard.PressAsync("Shift+Digit2");
        await Assertions.Expect(conflictRow.Locator(".state")).ToHaveTextAsync("conflict");

        // The admin gets another conflict image (the reviewer holds theirs), sees who said what, and adjudicates.
        var page = await SignInAsync("demo-admin", ConflictQueue, scriptErrors);
        var panel = page.Locator("[data-testid=review-panel][data-image-id]");
        await Assertions.Expect(panel).ToHaveCountAsync(1);
        var imageId = long.Parse((await panel.GetAttributeAsync("data-image-id"))!);
        var row = page.Locator($"[data-testid=review-row][data-wnid='{Goldfish}']");
        var itemId = long.Parse((await row.GetAttributeAsync("data-item-id"))!);
        await Assertions.Expect(row).ToHaveClassAsync(new Regex(@"\bconflict\b"));
        await Assertions.Expect(row.GetByTestId("review-verdicts")).ToHaveTextAsync("adj-ann: correct · adj-bob: wrong");
        await Assertions.Expect(row.GetByTestId("review-adjudicate")).ToBeVisibleAsync();
        await Assertions.Expect(row.GetByTestId("adjudicate-unreviewed")).ToBeDisabledAsync();

        // By keys: j focuses the conflicting row, shift+2 (the key of "wrong") adjudicates it; the help shows the keys.
        await Assertions.Expect(page.GetByTestId("review-keys")).ToContainTextAsync("shift+1/2/3 adjudicate correct/wrong/unclear · shift+0 withdraw");
        await page.Keyboard.PressAsync("j");
        await Assertions.Expect(row).ToHaveAttributeAsync("aria-current", "true");
        await page.Keyboard.PressAsync("Shift+Digit2");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("wrong");
        await Assertions.Expect(row).Not.ToHaveClassAsync(new Regex(@"\bconflict\b"));
        await Assertions.Expect(row.GetByTestId("review-verdicts")).ToHaveTextAsync("Adjudicated wrong by demo-admin");
        Assert.Equal("wrong", await ScalarAsync<string>("select state from review_items where id = @itemId", new { itemId }));

        // Withdrawing (shift+0) hands the item back to the rule (a conflict again); a second adjudication settles it.
        await page.Keyboard.PressAsync("Shift+Digit0");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("conflict");
        await Assertions.Expect(row.GetByTestId("review-verdicts")).ToHaveTextAsync("adj-ann: correct · adj-bob: wrong");
        await row.GetByTestId("adjudicate-correct").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("correct");
        await Assertions.Expect(row.GetByTestId("adjudicate-correct")).ToHaveAttributeAsync("aria-pressed", "true");

        Assert.Equal("correct", await ScalarAsync<string>("select state from review_items where id = @itemId", new { itemId }));
        Assert.Equal("wrong,unreviewed,correct", await ScalarAsync<string>(
            """
            select string_agg(e.verdict, ',' order by e.id) from verdict_events e join users u on u.id = e.reviewer_id
            where e.item_id = @itemId and e.adjudication and u.name = 'demo-admin'
            """,
            new { itemId }));
        Assert.Equal(0L, await ScalarAsync<long>(
            "select count(*) from verdict_events e join users u on u.id = e.reviewer_id where e.adjudication and u.name = 'demo-reviewer'"));

        // The rows carry the new versions: Enter submits the image without a stale-version refusal.
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-status")).ToHaveTextAsync(new Regex(@"^Saved img_\d\.$"));
        Assert.True(await ScalarAsync<bool>(
            "select exists (select 1 from review_done d join users u on u.id = d.reviewer_id where u.name = 'demo-admin' and d.image_id = @imageId)",
            new { imageId }));

        // The switch leads to another queue by its address.
        await page.Locator("[data-testid=review-modes] a[data-mode=pending]").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/review\?dataset=adjudicate$"));
        await Assertions.Expect(page.Locator("[data-testid=review-modes] a[aria-current=page]")).ToHaveAttributeAsync("data-mode", "pending");
        await Assertions.Expect(page.GetByTestId("review-empty")).ToBeVisibleAsync();
        Assert.Empty(scriptErrors);
    }
}
