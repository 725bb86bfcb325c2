using Microsoft.Playwright;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>
/// The pages an anonymous visitor can open: no console errors (no failed request, no script error), a name for every
/// form control, and a skip link that is the first stop of the keyboard and leads to the content.
/// </summary>
public sealed class AccessibilityBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly string[] AnonymousPages =
    [
        "/", "/leaderboard?dataset=demo-val", "/browse", "/browse/demo-val", "/browse/demo-val/classes/n02085620", "/images/1",
        "/models/demo-resnet50?dataset=demo-val", "/hard-images?dataset=demo-val", "/compare?dataset=demo-val", "/paper",
        "/datasets/demo-val/statistics", "/guide", "/sign-in", "/submit", "/review", "/labeling",
    ];

    /// <summary>Form controls without an accessible name (no label, aria-label, aria-labelledby or title).</summary>
    private const string UnnamedControls =
        """
        () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
          .filter(c => c.labels.length === 0 && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby') && !c.title)
          .map(c => c.outerHTML.slice(0, 160))
        """;

    [Fact]
    public async Task Anonymous_pages_log_no_console_errors_and_name_every_form_control()
    {
        var failures = new List<string>();
        var page = await fixture.NewPageAsync();
        var current = "";
        page.Console += (_, message) => { if (message.Type == "error") failures.Add($"{current}: console error: {message.Text}"); };
        page.PageError += (_, error) => failures.Add($"{current}: script error: {error}");
        foreach (var path in AnonymousPages)
        {
            current = path;
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Assertions.Expect(page.Locator("main h1").First).ToBeVisibleAsync();
            foreach (var control in await page.EvaluateAsync<string[]>(UnnamedControls)) failures.Add($"{path}: no accessible name: {control}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task The_skip_link_is_the_first_keyboard_stop_and_moves_focus_to_the_content()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/browse");
        await Assertions.Expect(page.Locator("main h1").First).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Tab");
        var skip = page.GetByTestId("skip-link");
        await Assertions.Expect(skip).ToBeFocusedAsync();
        await Assertions.Expect(skip).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("main#main")).ToBeFocusedAsync();
        Assert.EndsWith("/browse", page.Url);
        // The next stop is in the content, past the navigation.
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelector('main').contains(document.activeElement)"));
    }
}
