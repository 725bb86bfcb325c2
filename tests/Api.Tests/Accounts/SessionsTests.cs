using System.Net;
using System.Net.Http.Json;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Accounts;

/// <summary>
/// Cookie sessions are revocable: disabling or deleting a user, changing the password or the roles ends the user's
/// sessions within seconds; admins manage users; a user changes their own password and manages their own tokens.
/// </summary>
public sealed class SessionsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private async Task CreateUserAsync(string name, params string[] roles)
    {
        using var admin = App.Admin();
        var response = await admin.PostAsJsonAsync("/api/users", new { name, roles, password = name + "-password" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>A browser-like client signed in with a cookie, holding the anti-forgery header for its writes.</summary>
    private async Task<HttpClient> SignedInAsync(string name, string? password = null)
    {
        var client = App.CreateClient(new() { HandleCookies = true, BaseAddress = App.ClientBaseAddress });
        var signIn = await client.PostAsJsonAsync("/api/auth/sign-in", new { name, password = password ?? name + "-password" });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var csrf = await (await client.GetAsync("/api/auth/csrf")).JsonAsync();
        client.DefaultRequestHeaders.Add("X-CSRF-Token", csrf.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        return client;
    }

    private static async Task EndsSoonAsync(HttpClient session, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            // An endpoint that reads nothing of the user but its id: only the session check can refuse it.
            if ((await session.GetAsync("/api/auth/tokens")).StatusCode == HttpStatusCode.Unauthorized) return;
            await Task.Delay(50);
        }
        Assert.Fail($"The session was still accepted {Patience.TotalSeconds} s after {what}.");
    }

    [Fact]
    public async Task Disabling_a_user_ends_their_sessions_and_tokens_and_enabling_lets_them_sign_in_again()
    {
        await CreateUserAsync("s-disabled", "reviewer");
        using var session = await SignedInAsync("s-disabled");
        using var token = await App.UserAsync("s-disabled-token", "reviewer");
        using var admin = App.Admin();

        var disabled = await (await admin.PostAsync("/api/users/s-disabled/disable", null)).JsonAsync();
        Assert.True(disabled.GetProperty("disabled").GetBoolean());
        await EndsSoonAsync(session, "the user was disabled");
        await (await App.Anonymous().PostAsJsonAsync("/api/auth/sign-in", new { name = "s-disabled", password = "s-disabled-password" }))
            .ProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/users/s-disabled-token/disable", null)).StatusCode);
        await EndsSoonAsync(token, "the token's user was disabled");

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/users/s-disabled/enable", null)).StatusCode);
        using var again = await SignedInAsync("s-disabled");
        await (await admin.PostAsync("/api/users/admin/disable", null)).ProblemAsync(HttpStatusCode.Conflict);
        await (await admin.PostAsync("/api/users/nobody-at-all/disable", null)).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Changing_roles_or_resetting_the_password_ends_the_sessions()
    {
        await CreateUserAsync("s-roles", "reviewer");
        await CreateUserAsync("s-reset", "reviewer");
        using var roles = await SignedInAsync("s-roles");
        using var reset = await SignedInAsync("s-reset");
        using var admin = App.Admin();

        var changed = await (await admin.PutAsJsonAsync("/api/users/s-roles/roles", new { roles = new[] { "uploader" } })).JsonAsync();
        Assert.Equal("uploader", changed.GetProperty("roles")[0].GetString());
        await EndsSoonAsync(roles, "the roles changed");
        using var after = await SignedInAsync("s-roles");
        Assert.Equal("uploader", (await (await after.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("roles")[0].GetString());
        await (await admin.PutAsJsonAsync("/api/users/s-roles/roles", new { roles = new[] { "root" } })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PutAsJsonAsync("/api/users/admin/roles", new { roles = new[] { "reviewer" } })).ProblemAsync(HttpStatusCode.Conflict);

        // A generated password, shown once to the admin; the old one stops working with the sessions.
        var generated = await (await admin.PostAsJsonAsync("/api/users/s-reset/password", new { })).JsonAsync();
        var password = generated.GetProperty("password").GetString()!;
        Assert.True(password.Length >= 20);
        await EndsSoonAsync(reset, "an admin reset the password");
        await (await App.Anonymous().PostAsJsonAsync("/api/auth/sign-in", new { name = "s-reset", password = "s-reset-password" }))
            .ProblemAsync(HttpStatusCode.Unauthorized);
        using var renewed = await SignedInAsync("s-reset", password);
        await (await admin.PostAsJsonAsync("/api/users/s-reset/password", new { password = "short" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task A_user_changes_their_own_password_and_only_their_other_sessions_end()
    {
        await CreateUserAsync("s-own", "reviewer");
        using var here = await SignedInAsync("s-own");
        using var elsewhere = await SignedInAsync("s-own");

        var wrong = await here.PostAsJsonAsync("/api/auth/password", new { currentPassword = "not-it-at-all", newPassword = "a-new-password-1" });
        await wrong.ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent,
            (await here.PostAsJsonAsync("/api/auth/password", new { currentPassword = "s-own-password", newPassword = "a-new-password-1" })).StatusCode);

        await EndsSoonAsync(elsewhere, "the password changed");
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/api/auth/me")).StatusCode);
        using var signedIn = await SignedInAsync("s-own", "a-new-password-1");
    }

    [Fact]
    public async Task Deleting_a_user_ends_their_sessions()
    {
        await CreateUserAsync("s-deleted", "reviewer");
        using var session = await SignedInAsync("s-deleted");
        await using (var connection = await App.Db.OpenConnectionAsync())
            Assert.Equal(1, await connection.ExecuteAsync("delete from users where name = 's-deleted'"));
        await EndsSoonAsync(session, "the user was deleted");
    }

    [Fact]
    public async Task A_user_issues_lists_and_revokes_their_own_tokens_with_an_expiry()
    {
        await CreateUserAsync("s-tokens", "uploader");
        using var session = await SignedInAsync("s-tokens");
        var created = await (await session.PostAsJsonAsync("/api/auth/tokens", new { name = "laptop", expiresInDays = 30 })).JsonAsync();
        var expires = created.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddDays(29.9), DateTimeOffset.UtcNow.AddDays(30.1));
        using var token = App.WithToken(created.GetProperty("token").GetString()!);
        Assert.Equal("s-tokens", (await (await token.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("name").GetString());

        var listed = await (await session.GetAsync("/api/auth/tokens")).JsonAsync();
        var laptop = Assert.Single(listed.EnumerateArray());
        Assert.Equal("laptop", laptop.GetProperty("name").GetString());
        Assert.Equal(expires, laptop.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.True(laptop.GetProperty("active").GetBoolean());
        Assert.False(laptop.TryGetProperty("token", out _));

        // Someone else's token is not theirs to revoke.
        using var other = await App.UserAsync("s-tokens-other", "uploader");
        var id = laptop.GetProperty("id").GetInt64();
        await (await other.DeleteAsync($"/api/auth/tokens/{id}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/api/auth/tokens/{id}")).StatusCode);
        await EndsSoonAsync(token, "the token was revoked");
        await (await session.PostAsJsonAsync("/api/auth/tokens", new { name = "x", expiresInDays = 0 })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }
}
