using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>The review desk's address, zoom, skip, session line and empty queues, in headless Chromium.</summary>
public sealed class ReviewDeskBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Tench = "n01440764", Goldfish = "n01443537";

    private async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    private async Task<IPage> SignInAsync(string name, string next, List<string> scriptErrors, int width = 1440, int height = 900)
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
            { BaseURL = fixture.BaseUrl, ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString(next));
        await page.GetByTestId("signin-name").FillAsync(name);
        await page.GetByTestId("signin-password").FillAsync(name.StartsWith("demo-") ? TestDatabase.DemoPassword : name + "-password");
        await page.Keyboard.PressAsync("Enter");
        return page;
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("RELABEL_SCREENSHOTS");
        if (!string.IsNullOrEmpty(dir)) await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name) });
    }

    private static ILocator Panel(IPage page, long imageId) => page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']");

    [Fact]
    public async Task An_image_opens_by_its_address_the_address_follows_the_image_shown_and_back_returns_to_the_previous_one()
    {
        var app = fixture.App;
        var images = await ReviewTestData.CreateDatasetAsync(app, "url-desk", Tench, Tench, Tench);
        await ReviewTestData.AddPredictionsAsync(app, "url-desk", "url-desk-m", images.Keys.ToDictionary(f => f, _ => Goldfish));
        using (await app.UserAsync("url-rev", "reviewer")) { }
        var scriptErrors = new List<string>();

        // "/review?image=ID" alone opens that image (the second, not the queue's first), in its dataset's desk.
        var page = await SignInAsync("url-rev", $"/review?image={images["img_2"]}", scriptErrors);
        await Assertions.Expect(Panel(page, images["img_2"])).ToHaveCountAsync(1);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($@"/review\?dataset=url-desk&image={images["img_2"]}$"));
        await Assertions.Expect(page.Locator("[data-testid=review-modes] a[data-mode=conflicts]")).ToHaveAttributeAsync("href", "/review?dataset=url-desk&mode=conflicts");

        // Submitting moves on to another image, and the address follows it.
        await page.Keyboard.PressAsync("1");
        await page.Keyboard.PressAsync("2");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(Panel(page, images["img_2"])).ToHaveCountAsync(0);
        var next = long.Parse((await page.Locator("[data-testid=review-panel][data-image-id]").GetAttributeAsync("data-image-id"))!);
        Assert.NotEqual(images["img_2"], next);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($@"/review\?dataset=url-desk&image={next}$"));
        await Assertions.Expect(page.GetByTestId("review-session")).ToContainTextAsync("this session: 1 image");

        // Back shows the image before, with the verdicts just given; forward the one after; a reload keeps the image.
        await page.GoBackAsync();
        await Assertions.Expect(Panel(page, images["img_2"])).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator($"[data-testid=review-row][data-wnid='{Goldfish}']")).ToHaveAttributeAsync("data-choice", "wrong");
        await page.GoForwardAsync();
        await Assertions.Expect(Panel(page, next)).ToHaveCountAsync(1);
        await page.ReloadAsync();
        await Assertions.Expect(Panel(page, next)).ToHaveCountAsync(1);

        // An image that does not exist says so.
        await page.GotoAsync("/review?image=999999999");
        await Assertions.Expect(page.GetByTestId("problem")).ToContainTextAsync("does not exist");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task The_image_zooms_and_pans_with_keys_and_the_mouse_and_a_reset_restores_it()
    {
        // The demo's images have files: the zoom is tried on a real picture.
        var scriptErrors = new List<string>();
        var page = await SignInAsync("demo-reviewer", "/review?dataset=demo-val", scriptErrors);
        await Assertions.Expect(page.Locator("[data-testid=review-panel][data-image-id]")).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => { const img = document.querySelector('[data-testid=review-image]'); return img.complete && img.naturalWidth > 0; }");
        var image = page.GetByTestId("review-image");
        await Assertions.Expect(page.GetByTestId("review-keys")).ToContainTextAsync("+/− zoom · z reset zoom · shift+arrows pan");
        Task<string> TransformAsync() => image.EvaluateAsync<string>("img => img.style.transform");
        Assert.Equal("", await TransformAsync());
        var firstRow = page.Locator("[data-testid=review-row]").First;
        var choiceBefore = (await firstRow.GetAttributeAsync("data-choice"))!;

        // Keys: + zooms about the centre, shift+arrow pans, z resets; the choices' keys are untouched (0 is "unreviewed").
        await page.Keyboard.PressAsync("+");
        await page.Keyboard.PressAsync("+");
        var zoomed = await TransformAsync();
        Assert.Matches(@"scale\(1\.5625\)", zoomed);
        await Assertions.Expect(page.GetByTestId("review-zoom-level")).ToHaveTextAsync("zoom 156 % (z resets)");
        await page.Keyboard.PressAsync("Shift+ArrowLeft");
        var panned = await TransformAsync();
        Assert.NotEqual(zoomed, panned);
        Assert.Matches(@"scale\(1\.5625\)", panned);
        await ScreenshotAsync(page, "review-zoomed-1440x900.png");
        await page.Keyboard.PressAsync("z");
        Assert.Equal("", await TransformAsync());
        await Assertions.Expect(firstRow).ToHaveAttributeAsync("data-choice", choiceBefore);

        // Mouse: the wheel zooms at the cursor (not about the centre), a drag pans, a double click resets.
        var box = (await page.GetByTestId("review-zoom").BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width * 0.25f, box.Y + box.Height * 0.25f);
        await page.Mouse.WheelAsync(0, -100);
        await page.WaitForFunctionAsync("() => document.querySelector('[data-testid=review-image]').style.transform !== ''");
        var wheeled = await TransformAsync();
        Assert.Matches(@"scale\(1\.25\)", wheeled);
        // At a quarter of the frame, the offset is a quarter of the growth: −0.25·0.25·width.
        var x = double.Parse(Regex.Match(wheeled, @"translate\((-?[\d.]+)px").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(x, -0.0625 * box.Width - 2, -0.0625 * box.Width + 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width * 0.25f - 20, box.Y + box.Height * 0.25f - 10, new() { Steps = 4 });
        await page.Mouse.UpAsync();
        Assert.NotEqual(wheeled, await TransformAsync());
        await page.GetByTestId("review-zoom").DblClickAsync();
        Assert.Equal("", await TransformAsync());
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task A_reviewer_skips_images_with_a_reason_and_the_empty_queues_say_why()
    {
        var app = fixture.App;
        var images = await ReviewTestData.CreateDatasetAsync(app, "skip-desk", Tench, Tench);
        await ReviewTestData.AddPredictionsAsync(app, "skip-desk", "skip-desk-m", images.Keys.ToDictionary(f => f, _ => Goldfish));
        using (await app.UserAsync("skip-rev", "reviewer")) { }
        var scriptErrors = new List<string>();
        var page = await SignInAsync("skip-rev", "/review?dataset=skip-desk", scriptErrors);
        await Assertions.Expect(Panel(page, images["img_1"])).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("review-session")).ToHaveTextAsync("this session: 0 images · 2 images left");

        // s opens the choice of reasons; a key picks one, a note is optional, Enter skips.
        await Assertions.Expect(page.GetByTestId("review-skip")).ToBeHiddenAsync();
        await page.Keyboard.PressAsync("s");
        await Assertions.Expect(page.GetByTestId("review-skip")).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-status")).ToHaveTextAsync("Choose why you skip (1, 2 or 3), then Enter.");
        await page.Keyboard.PressAsync("1");
        await Assertions.Expect(page.Locator("[data-testid=skip-needs-expert] input")).ToBeCheckedAsync();
        await page.GetByTestId("skip-note").FillAsync("an eel, maybe");
        await ScreenshotAsync(page, "review-skip-1440x900.png");
        await page.GetByTestId("skip-note").PressAsync("Enter");
        await Assertions.Expect(Panel(page, images["img_2"])).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("review-status")).ToContainTextAsync("Skipped img_1 (Needs an expert)");
        await Assertions.Expect(page.GetByTestId("review-skip")).ToBeHiddenAsync();
        Assert.Equal("needs-expert|an eel, maybe", await ScalarAsync<string>(
            "select reason || '|' || note from review_skips where image_id = @id", new { id = images["img_1"] }));

        // Escape cancels; the second image skipped by keys alone empties the queue, which says why.
        await page.Keyboard.PressAsync("s");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.GetByTestId("review-skip")).ToBeHiddenAsync();
        await page.Keyboard.PressAsync("s");
        await page.Keyboard.PressAsync("2");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("review-empty")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("review-empty")).ToContainTextAsync("You skipped 2 images this session");
        Assert.Equal("image-wont-load", await ScalarAsync<string>("select reason from review_skips where image_id = @id", new { id = images["img_2"] }));
        Assert.Equal(0L, await ScalarAsync<long>("select count(*) from verdict_events e join review_items r on r.id = e.item_id where r.image_id = any(@ids)",
            new { ids = images.Values.ToArray() }));

        // The conflicts queue of a dataset that decides by the latest verdict says conflicts cannot arise.
        await page.Locator("[data-testid=review-modes] a[data-mode=conflicts]").ClickAsync();
        await Assertions.Expect(page.GetByTestId("review-empty")).ToHaveTextAsync(
            "Conflicts only arise under an agreement rule; this dataset decides by the latest verdict.");
        await ScreenshotAsync(page, "review-empty-1440x900.png");

        // A reload brings the skipped images back; on a phone the desk has no sideways overflow.
        var phone = await SignInAsync("skip-rev", $"/review?dataset=skip-desk", scriptErrors, 390, 844);
        await Assertions.Expect(phone.Locator("[data-testid=review-panel][data-image-id]")).ToHaveCountAsync(1);
        await phone.Keyboard.PressAsync("s");
        await ScreenshotAsync(phone, "review-skip-390x844.png");
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task An_admin_edits_and_deletes_guide_notes_on_the_review_desk_and_the_guide_page_choosing_classes_by_name()
    {
        var app = fixture.App;
        var images = await ReviewTestData.CreateDatasetAsync(app, "notes-desk", Tench);
        await ReviewTestData.AddPredictionsAsync(app, "notes-desk", "notes-desk-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        long own, pair;
        using (var admin = app.Admin())
        {
            own = (await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, body = "Fins." })).JsonAsync()).GetProperty("id").GetInt64();
            pair = (await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, otherWnid = Goldfish, body = "Colour tells." })).JsonAsync())
                .GetProperty("id").GetInt64();
        }
        using (await app.UserAsync("notes-rev", "reviewer")) { }
        using (await app.UserAsync("notes-admin", "admin")) { }
        const string Stored = "select wnid || '|' || coalesce(other_wnid, '-') || '|' || body from guide_notes where id = @id";
        var scriptErrors = new List<string>();

        // A reviewer reads the notes but gets no Edit or Delete.
        var reviewer = await SignInAsync("notes-rev", "/review?dataset=notes-desk", scriptErrors);
        await Assertions.Expect(reviewer.Locator($"[data-testid=review-row][data-wnid='{Tench}'] .guide-note[data-note-id='{own}']")).ToContainTextAsync("Fins.");
        await Assertions.Expect(reviewer.GetByTestId("guide-note-edit")).ToHaveCountAsync(0);

        // On the desk, the admin edits the tench note: a new class picked by its name, a new text; the same note changes.
        var page = await SignInAsync("notes-admin", $"/review?image={images["img_1"]}", scriptErrors);
        var tenchNote = page.Locator($"[data-testid=review-row][data-wnid='{Tench}'] .guide-note[data-note-id='{own}']");
        await tenchNote.GetByTestId("guide-note-edit").ClickAsync();
        var editor = page.GetByTestId("guide-editor");
        await Assertions.Expect(editor).ToBeVisibleAsync();
        await Assertions.Expect(editor.GetByTestId("guide-edit-class-chosen")).ToHaveTextAsync($"tench ({Tench})");
        await Assertions.Expect(editor.GetByTestId("guide-edit-body")).ToHaveValueAsync("Fins.");
        // The class picker by keyboard: down into the options, Escape closes them back in the search (the editor stays),
        // and Enter on an option chooses it.
        var search = editor.GetByTestId("guide-edit-class-search");
        var goldfish = editor.Locator($"[data-testid=guide-edit-class-options] button[data-wnid='{Goldfish}']");
        await search.PressSequentiallyAsync("goldf");
        await Assertions.Expect(goldfish).ToBeVisibleAsync();
        await search.PressAsync("ArrowDown");
        await Assertions.Expect(editor.Locator("[data-testid=guide-edit-class-options] button").First).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(search).ToBeFocusedAsync();
        await Assertions.Expect(goldfish).ToHaveCountAsync(0);
        await Assertions.Expect(editor).ToBeVisibleAsync();
        await search.PressSequentiallyAsync("i");
        await Assertions.Expect(goldfish).ToBeVisibleAsync();
        await search.PressAsync("ArrowDown");
        await goldfish.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(editor.GetByTestId("guide-edit-class-chosen")).ToHaveTextAsync($"goldfish ({Goldfish})");
        await Assertions.Expect(search).ToBeFocusedAsync();
        await editor.GetByTestId("guide-edit-body").FillAsync("Orange, *mostly*.");
        await ScreenshotAsync(page, "review-note-editor-1440x900.png");
        await editor.GetByTestId("guide-edit-save").ClickAsync();
        await Assertions.Expect(editor).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator($"[data-testid=review-row][data-wnid='{Goldfish}'] .guide-note[data-note-id='{own}']")).ToContainTextAsync("Orange, mostly.");
        await Assertions.Expect(tenchNote).ToHaveCountAsync(0);
        Assert.Equal($"{Goldfish}|-|Orange, *mostly*.", await ScalarAsync<string>(Stored, new { id = own }));

        // Delete asks once more on the same button, then the note is gone from the database and the desk.
        var pairNote = page.Locator($"[data-testid=review-row][data-wnid='{Tench}'] .guide-note[data-note-id='{pair}']");
        await pairNote.GetByTestId("guide-note-delete").ClickAsync();
        await Assertions.Expect(pairNote.GetByTestId("guide-note-delete")).ToHaveTextAsync("Delete: sure?");
        Assert.Equal(1L, await ScalarAsync<long>("select count(*) from guide_notes where id = @pair", new { pair }));
        await pairNote.GetByTestId("guide-note-delete").ClickAsync();
        await Assertions.Expect(page.Locator($".guide-note[data-note-id='{pair}']")).ToHaveCountAsync(0);
        Assert.Equal(0L, await ScalarAsync<long>("select count(*) from guide_notes where id = @pair", new { pair }));

        // The guide page: a new note by class name, then edited and deleted where it is listed.
        await page.GotoAsync("/guide");
        await page.GetByTestId("guide-new-note").ClickAsync();
        await editor.GetByTestId("guide-edit-class-search").PressSequentiallyAsync("tench");
        await editor.Locator($"[data-testid=guide-edit-class-options] button[data-wnid='{Tench}']").ClickAsync();
        await editor.GetByTestId("guide-edit-body").FillAsync("Greenish.");
        await editor.GetByTestId("guide-edit-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("guide-entries")).ToContainTextAsync("Greenish.");
        var created = await ScalarAsync<long>("select id from guide_notes where wnid = @Tench and other_wnid is null", new { Tench });
        var card = page.Locator($"[data-testid=guide-entries] [data-note-id='{created}']");
        await Assertions.Expect(card).ToContainTextAsync("Greenish.");
        await card.GetByTestId("guide-note-edit").ClickAsync();
        await Assertions.Expect(editor.GetByTestId("guide-edit-class-chosen")).ToHaveTextAsync($"tench ({Tench})");
        await editor.GetByTestId("guide-edit-body").FillAsync("Olive green.");
        await editor.GetByTestId("guide-edit-save").ClickAsync();
        await Assertions.Expect(card).ToContainTextAsync("Olive green.");
        Assert.Equal($"{Tench}|-|Olive green.", await ScalarAsync<string>(Stored, new { id = created }));
        await card.GetByTestId("guide-note-delete").ClickAsync();
        await card.GetByTestId("guide-note-delete").ClickAsync();
        await Assertions.Expect(card).ToHaveCountAsync(0);
        Assert.Equal(0L, await ScalarAsync<long>("select count(*) from guide_notes where id = @created", new { created }));

        var phone = await SignInAsync("notes-admin", "/guide", scriptErrors, 390, 844);
        await phone.GetByTestId("guide-new-note").ClickAsync();
        await ScreenshotAsync(phone, "guide-editor-390x844.png");
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        Assert.Empty(scriptErrors);
    }
}
