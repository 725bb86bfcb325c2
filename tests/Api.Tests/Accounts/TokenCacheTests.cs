using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Relabel.Api.Infrastructure;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Accounts;

/// <summary>
/// Token owners are remembered between requests (TokenCache); a change made in the database by anyone else must still
/// reach every API process. "Anyone else" here is a connection of the test's own, as psql or a second API would be.
/// </summary>
public sealed class TokenCacheTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private async Task<NpgsqlConnection> OtherProcessAsync()
    {
        var connection = new NpgsqlConnection(TestDatabase.ConnectionString(fixture.App.Database));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Polls until the condition holds (a notification takes milliseconds); false if it never does.</summary>
    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(20);
        }
        return await condition();
    }

    /// <summary>What another process revoking a user's tokens runs, bypassing this API.</summary>
    private const string RevokeTokensOf = "update api_tokens set revoked_at = now() where user_id = (select id from users where name = @name)";

    private static async Task RefusedSoonAsync(HttpClient user) =>
        Assert.True(await EventuallyAsync(async () => (await user.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized),
            "The revoked token was still accepted after 5 s.");

    private async Task ListeningAsync() =>
        Assert.True(await EventuallyAsync(() => Task.FromResult(fixture.App.Services.GetRequiredService<TokenCache>().Listening)),
            "The token cache never started listening for changes.");

    [Fact]
    public async Task A_token_revoked_in_the_database_by_another_process_is_refused()
    {
        await ListeningAsync();
        using var user = await fixture.App.UserAsync("cache-revoked", "reviewer");
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/auth/me")).StatusCode);

        await using (var other = await OtherProcessAsync())
            await other.ExecuteAsync(RevokeTokensOf, new { name = "cache-revoked" });

        await RefusedSoonAsync(user);
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task Roles_changed_in_the_database_apply_to_the_next_requests()
    {
        await ListeningAsync();
        using var user = await fixture.App.UserAsync("cache-roles", "reviewer");
        // Authorization reads the roles the token's owner had when looked up: a reviewer may ask (404: no such dataset).
        const string ReviewerOnly = "/api/review/progress?dataset=no-such-dataset";
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync(ReviewerOnly)).StatusCode);

        await using (var other = await OtherProcessAsync())
            await other.ExecuteAsync("update users set roles = '{uploader}' where name = 'cache-roles'");

        Assert.True(await EventuallyAsync(async () => (await user.GetAsync(ReviewerOnly)).StatusCode == HttpStatusCode.Forbidden),
            "A role taken away in the database still authorized requests after 5 s.");
    }

    [Fact]
    public async Task A_token_is_looked_up_once_and_forgotten_when_the_database_says_so()
    {
        await ListeningAsync();
        var cache = fixture.App.Services.GetRequiredService<TokenCache>();
        using var admin = fixture.App.Admin();
        using (await fixture.App.UserAsync("cache-remembered", "reviewer")) { }
        await using var other = await OtherProcessAsync();

        // A notification of an earlier change (this class's other tests write users and tokens) may still be on its
        // way and empty the cache at any moment. An attempt proves something only if none arrived during it, which the
        // cache's generation tells; otherwise it is repeated with a new token.
        for (var attempt = 1; ; attempt++)
        {
            var created = await (await admin.PostAsJsonAsync("/api/users/cache-remembered/tokens", new { name = $"attempt {attempt}" })).JsonAsync();
            var token = created.GetProperty("token").GetString()!;
            using var user = fixture.App.WithToken(token);
            Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/auth/me")).StatusCode);
            var generation = cache.Generation;
            var remembered = cache.TryGet(Convert.ToHexString(Auth.HashToken(token)), out _);

            // Revoked without telling anyone (the trigger that notifies is off for this one change; the tables' owner may
            // do that, no superuser needed)...
            await using (var transaction = await other.BeginTransactionAsync())
            {
                await other.ExecuteAsync("alter table api_tokens disable trigger api_tokens_changed", transaction: transaction);
                await other.ExecuteAsync("update api_tokens set revoked_at = now() where id = @id",
                    new { id = created.GetProperty("id").GetInt64() }, transaction);
                await other.ExecuteAsync("alter table api_tokens enable trigger api_tokens_changed", transaction: transaction);
                await transaction.CommitAsync();
            }
            var status = (await user.GetAsync("/api/auth/me")).StatusCode;
            if (remembered && cache.Generation == generation)
            {
                // ...the remembered owner still answers, which shows that the request did not ask the database...
                Assert.Equal(HttpStatusCode.OK, status);
                // ...and the notification that the triggers send makes every process forget it.
                await other.ExecuteAsync($"select pg_notify('{TokenCache.Channel}', '')");
                await RefusedSoonAsync(user);
                return;
            }
            Assert.True(attempt < 10, "Ten attempts in a row were disturbed by notifications: the cache never stayed still.");
        }
    }
}
