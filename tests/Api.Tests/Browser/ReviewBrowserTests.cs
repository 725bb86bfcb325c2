using Dapper;
using Microsoft.Playwright;
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
        await page.GetByTestId("signin-password").FillAsync("demo-reviewer-password");
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

        // u undoes the submit with new events and shows the image again.
        await page.Keyboard.PressAsync("u");
        await Assertions.Expect(page.Locator($"[data-testid=review-panel][data-image-id='{imageId}']")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("review-flag")).Not.ToBeCheckedAsync();
        Assert.False(await ScalarAsync<bool>("select problematic from image_states where image_id = @imageId", new { imageId }));
        Assert.Equal(rowCount, await ScalarAsync<long>(
            """
            select count(*) from verdict_events e join review_items r on r.id = e.item_id
            where r.image_id = @imageId and e.verdict = 'unreviewed'
            """,
            new { imageId }));
        Assert.Equal("unreviewed", await page.GetByTestId("review-row").First.GetAttributeAsync("data-choice"));
        Assert.Empty(scriptErrors);
    }
}
