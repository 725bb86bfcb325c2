using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Security;

public sealed class SecretsInLogsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Passwords_and_tokens_never_appear_in_the_logs()
    {
        const string password = "a-long-secret-password-4711";
        using var admin = fixture.App.Admin();
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/users", new { name = "log-user", roles = new[] { "uploader" }, password })).StatusCode);
        var token = (await (await admin.PostAsJsonAsync("/api/users/log-user/tokens", new { name = "t" })).JsonAsync()).GetProperty("token").GetString()!;

        using var cookies = fixture.App.CreateClient(new() { HandleCookies = true });
        Assert.Equal(HttpStatusCode.OK, (await cookies.PostAsJsonAsync("/api/auth/sign-in", new { name = "log-user", password })).StatusCode);
        await cookies.PostAsJsonAsync("/api/auth/sign-in", new { name = "log-user", password = password + "-wrong" });
        using var user = fixture.App.WithToken(token);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/auth/me")).StatusCode);
        await fixture.App.WithToken(token + "x").GetAsync("/api/auth/me");
        // A failing request logs its exception: that must not carry secrets either.
        await user.PostAsync("/api/datasets", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));

        var lines = fixture.App.Logs.Lines;
        Assert.NotEmpty(lines);
        foreach (var secret in new[] { password, token, token[3..], TestDatabase.AdminToken, TestDatabase.AdminPassword })
            Assert.DoesNotContain(lines, line => line.Contains(secret, StringComparison.Ordinal));
    }
}
