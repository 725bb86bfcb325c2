using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>Markup stored in model names, descriptions and guide notes is shown as text and never runs.</summary>
public sealed class StoredXssBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Markup = "<img src=x onerror=\"window.xssRan=1\"><script>window.xssRan=1</script>";

    [Fact]
    public async Task Markup_in_stored_text_is_shown_literally_on_the_leaderboard_the_model_page_and_the_review_page()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestDatabase.AdminToken);
        // User names cannot hold markup at all.
        var user = await admin.PostAsJsonAsync("/api/users", new { name = Markup, roles = new[] { "reviewer" }, password = "xss-password-1" });
        Assert.True(user.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{(int)user.StatusCode}");

        var displayName = "Evil " + Markup;
        var created = await admin.PostAsJsonAsync("/api/models",
            new { slug = "xss-model", displayName, description = "Described " + Markup, kind = "model" });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        // The same predictions as a demo model, so that it ranks on the demo leaderboard.
        string? predictions = null;
        foreach (var model in (await (await admin.GetAsync("/api/models")).JsonAsync()).EnumerateArray())
        {
            var download = await admin.GetAsync($"/api/models/{model.GetProperty("slug").GetString()}/predictions/demo-val");
            if (download.StatusCode != HttpStatusCode.OK) continue;
            predictions = await download.Content.ReadAsStringAsync();
            break;
        }
        Assert.NotNull(predictions);
        var upload = await admin.PutAsync("/api/models/xss-model/predictions/demo-val",
            new StringContent(predictions, System.Text.Encoding.UTF8, "application/json"));
        Assert.True(upload.StatusCode == HttpStatusCode.OK, await upload.Content.ReadAsStringAsync());

        // A guide note with markup on every class of the demo dataset, so the reviewed image shows one.
        var note = "Careful " + Markup;
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("update guide_notes set body = @note", new { note });
            await connection.ExecuteAsync(
                """
                insert into guide_notes (wnid, body, updated_by)
                select c.wnid, @note, (select id from users where name = 'admin')
                from datasets d join label_space_classes c on c.label_space_id = d.label_space_id
                where d.slug = 'demo-val'
                on conflict do nothing
                """,
                new { note });
        }

        var page = await fixture.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, dialog) => { dialogs++; _ = dialog.DismissAsync(); };

        await page.GotoAsync("/leaderboard?dataset=demo-val");
        await Assertions.Expect(page.GetByText(displayName, new PageGetByTextOptions { Exact = true }).First).ToBeVisibleAsync();
        await AssertNoScriptRanAsync(page);

        await page.GotoAsync("/models/xss-model?dataset=demo-val");
        await Assertions.Expect(page.GetByText(displayName).First).ToBeVisibleAsync();
        await AssertNoScriptRanAsync(page);

        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/review?dataset=demo-val"));
        await page.GetByTestId("signin-name").FillAsync("demo-reviewer");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=review-panel][data-image-id]")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("guide-notes").GetByText("Careful").First).ToBeVisibleAsync();
        Assert.Contains(Markup, await page.GetByTestId("guide-notes").First.InnerTextAsync());
        await AssertNoScriptRanAsync(page);
        Assert.Equal(0, dialogs);
    }

    private static async Task AssertNoScriptRanAsync(IPage page)
    {
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.xssRan"));
        // Nothing of the stored markup became an element.
        Assert.Equal(0, await page.Locator("img[src=x], script:not([src])").CountAsync());
    }
}
