using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>The account page: API tokens with a chosen expiry, shown in the list and revocable; the own password.</summary>
public sealed class AccountBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private async Task<IPage> SignedInAsync(string password)
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.GetByTestId("signin-name").FillAsync("demo-uploader");
        await page.GetByTestId("signin-password").FillAsync(password);
        await page.GetByTestId("signin-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task A_user_issues_a_token_with_an_expiry_sees_it_listed_revokes_it_and_changes_their_password()
    {
        var page = await SignedInAsync(TestDatabase.DemoPassword);
        await page.GetByTestId("current-user").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account$"));

        await page.GetByTestId("token-name").FillAsync("notebook");
        await page.GetByTestId("token-expiry").SelectOptionAsync("30");
        await page.GetByTestId("token-issue").ClickAsync();
        await Assertions.Expect(page.GetByTestId("token-value")).ToContainTextAsync("rl_");
        var token = await page.GetByTestId("token-value").TextContentAsync();
        var expiry = DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-dd");
        var row = page.GetByTestId("token-row").Filter(new() { HasText = "notebook" });
        await Assertions.Expect(row).ToContainTextAsync($"expires in 29 days ({expiry})");

        using var http = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/auth/me")).StatusCode);
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/auth/me")).StatusCode);

        await page.GetByTestId("password-current").FillAsync(TestDatabase.DemoPassword);
        await page.GetByTestId("password-new").FillAsync("a-brand-new-password");
        await page.GetByTestId("password-repeat").FillAsync("a-brand-new-password");
        await page.GetByTestId("password-save").ClickAsync();
        await Assertions.Expect(page.GetByTestId("password-changed")).ToBeVisibleAsync();
        // This session goes on; a new one needs the new password.
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByTestId("token-list")).ToBeVisibleAsync();
        await SignedInAsync("a-brand-new-password");
    }
}
