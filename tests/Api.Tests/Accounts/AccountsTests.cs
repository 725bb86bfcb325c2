using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Accounts;

public sealed class AccountsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private HttpClient CookieClient() => fixture.App.CreateClient(new() { HandleCookies = true });

    [Fact]
    public async Task A_password_sign_in_sets_an_HttpOnly_SameSite_cookie()
    {
        using var client = CookieClient();
        var response = await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "admin", password = TestDatabase.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("relabel.session="));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var me = await (await client.GetAsync("/api/auth/me")).JsonAsync();
        Assert.Equal("admin", me.GetProperty("name").GetString());
        Assert.Contains("admin", me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        // Nobody signed in is an answer, not an error (anonymous pages log no failed request); a bad token is refused.
        var anonymous = await fixture.App.Anonymous().GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.Equal("application/json", anonymous.Content.Headers.ContentType?.MediaType);
        Assert.Equal("null", await anonymous.Content.ReadAsStringAsync());
        await (await fixture.App.WithToken("rl_not-a-token").GetAsync("/api/auth/me")).ProblemAsync(HttpStatusCode.Unauthorized);
        var wrong = await CookieClient().PostAsJsonAsync("/api/auth/sign-in", new { name = "admin", password = "nope" });
        await wrong.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Cookie_authenticated_writes_need_the_anti_forgery_token()
    {
        using var client = CookieClient();
        await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "admin", password = TestDatabase.AdminPassword });
        var body = new { slug = "csrf-check", name = "x", classes = new[] { "n01440764" } };
        var refused = await client.PostAsJsonAsync("/api/datasets", body);
        var problem = await refused.ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("anti-forgery", problem.GetProperty("title").GetString());
        await (await fixture.App.Anonymous().GetAsync("/api/datasets/csrf-check")).ProblemAsync(HttpStatusCode.NotFound);

        var csrf = await (await client.GetAsync("/api/auth/csrf")).JsonAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/datasets") { Content = JsonContent.Create(body) };
        request.Headers.Add(csrf.GetProperty("headerName").GetString()!, csrf.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Tokens_are_shown_once_work_until_revoked_and_are_stored_hashed()
    {
        using var admin = fixture.App.Admin();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/users", new { name = "token-user", roles = new[] { "uploader" } })).StatusCode);
        var created = await (await admin.PostAsJsonAsync("/api/users/token-user/tokens", new { name = "laptop", expiresInDays = 30 })).JsonAsync();
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("rl_", token);
        Assert.True(created.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(29));

        using var user = fixture.App.WithToken(token);
        Assert.Equal("token-user", (await (await user.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("name").GetString());
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        {
            var stored = await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
                "select count(*) from api_tokens where position(convert_to(@token, 'UTF8') in token_hash) > 0", new { token });
            Assert.Equal(0, stored);
        }

        var revoke = await admin.DeleteAsync($"/api/tokens/{created.GetProperty("id").GetInt64()}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        await (await user.GetAsync("/api/auth/me")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await admin.DeleteAsync("/api/tokens/999999")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Users_are_managed_by_admins_only()
    {
        using var admin = fixture.App.Admin();
        using var reviewer = await fixture.App.UserAsync("plain-reviewer", "reviewer");
        await (await reviewer.GetAsync("/api/users")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await reviewer.PostAsJsonAsync("/api/users", new { name = "x", roles = Array.Empty<string>() })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await fixture.App.Anonymous().GetAsync("/api/users")).ProblemAsync(HttpStatusCode.Unauthorized);

        var bad = await admin.PostAsJsonAsync("/api/users", new { name = "bad", roles = new[] { "king" }, password = "short" });
        var problem = await bad.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(problem.HasFieldError("password"), problem.ToString());
        await (await admin.PostAsJsonAsync("/api/users", new { name = "plain-reviewer", roles = new[] { "reviewer" } }))
            .ProblemAsync(HttpStatusCode.Conflict);
        var users = await (await admin.GetAsync("/api/users")).JsonAsync();
        var listed = users.EnumerateArray().Single(u => u.GetProperty("name").GetString() == "plain-reviewer");
        Assert.Equal(1, listed.GetProperty("activeTokens").GetInt32());
        Assert.False(listed.TryGetProperty("passwordHash", out _));
        // Nothing of the refused requests was written: no user "x" or "bad", and the existing user kept its roles.
        var names = users.EnumerateArray().Select(u => u.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain("x", names);
        Assert.DoesNotContain("bad", names);
        Assert.Equal(["reviewer"], listed.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Bad_token_requests_are_refused_with_the_field_and_issue_no_token()
    {
        using var admin = fixture.App.Admin();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/users", new { name = "token-bad", roles = new[] { "uploader" } })).StatusCode);
        foreach (var (request, field) in new (object Request, string Field)[]
                 {
                     (new { name = "t", expiresInDays = 0 }, "expiresInDays"),
                     (new { name = "t", expiresInDays = 3651 }, "expiresInDays"),
                     (new { name = "t", expiresInDays = -5 }, "expiresInDays"),
                     (new { name = new string('n', 101) }, "name"),
                 })
        {
            var problem = await (await admin.PostAsJsonAsync("/api/users/token-bad/tokens", request)).ProblemAsync(HttpStatusCode.UnprocessableEntity);
            Assert.True(problem.HasFieldError(field), problem.ToString());
        }
        await (await admin.PostAsync("/api/users/token-bad/tokens", new StringContent("{\"expiresInDays\": \"soon\"}", System.Text.Encoding.UTF8, "application/json")))
            .ProblemAsync(HttpStatusCode.BadRequest);
        await (await admin.PostAsJsonAsync("/api/users/nobody-here/tokens", new { name = "t" })).ProblemAsync(HttpStatusCode.NotFound);
        using var reviewer = await fixture.App.UserAsync("token-bad-reviewer", "reviewer");
        await (await reviewer.PostAsJsonAsync("/api/users/token-bad/tokens", new { name = "t" })).ProblemAsync(HttpStatusCode.Forbidden);

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal(0, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection,
            "select count(*) from api_tokens t join users u on u.id = t.user_id where u.name = 'token-bad'"));
        Assert.Equal(0, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "select count(*) from users where name = 'nobody-here'"));
    }

    [Fact]
    public async Task Health_reports_the_database()
    {
        var health = await (await fixture.App.Anonymous().GetAsync("/api/health")).JsonAsync();
        Assert.Equal("up", health.GetProperty("database").GetString());
        Assert.True(health.GetProperty("schemaVersions").GetInt32() >= 1);
    }
}

public sealed class SignInRateLimitFixture : ApiFixture
{
    protected override IDictionary<string, string?>? Settings =>
        new Dictionary<string, string?> { ["Relabel:SignInAttemptsPerMinute"] = "3" };
}

public sealed class SignInRateLimitTests(SignInRateLimitFixture fixture) : IClassFixture<SignInRateLimitFixture>
{
    [Fact]
    public async Task Sign_in_attempts_are_rate_limited()
    {
        using var client = fixture.App.Anonymous();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
            statuses.Add((await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "admin", password = "guess" + i })).StatusCode);
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized,
            HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}
