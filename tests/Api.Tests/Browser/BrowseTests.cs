using Microsoft.Playwright;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class BrowseTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Browse_shows_the_thumbnails_of_a_class()
    {
        var page = await fixture.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);

        await page.GotoAsync("/browse");
        await page.GetByTestId("dataset-picker").Locator("li[data-slug=demo-val] a").ClickAsync();
        await page.GetByTestId("class-search").FillAsync("chihuahua");
        var classes = page.GetByTestId("class-list").Locator("li");
        await Assertions.Expect(classes).ToHaveCountAsync(1);
        await classes.First.Locator("a").First.ClickAsync();

        await page.WaitForURLAsync("**/browse/demo-val/classes/n02085620");
        var thumbnails = page.GetByTestId("thumbnail");
        await Assertions.Expect(thumbnails).ToHaveCountAsync(15);
        // Every thumbnail really loaded: the browser decoded the image bytes the API served.
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('[data-testid=thumbnail]')].every(img => img.complete && img.naturalWidth > 0)");
        Assert.Empty(scriptErrors);
    }
}
