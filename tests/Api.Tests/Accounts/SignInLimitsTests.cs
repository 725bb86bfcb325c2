using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Accounts;

/// <summary>The real password hasher, counting its verifications.</summary>
public sealed class CountingHasher : IPasswordHasher<string>
{
    private readonly PasswordHasher<string> _inner = new();
    private int _verifications;

    public int Verifications => Volatile.Read(ref _verifications);

    public string HashPassword(string user, string password) => _inner.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(string user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

/// <summary>
/// Sign-in is limited per account and per client address (the real one, behind a known proxy), costs the same work for
/// unknown and known names, and sets Secure cookies over HTTPS or when the operator says so.
/// </summary>
public sealed class SignInLimitsTests
{
    private static async Task<(RelabelApp App, string Database)> StartAsync(Dictionary<string, string?> settings, bool kestrel = false)
    {
        var database = await TestDatabase.CreateAsync();
        var app = new RelabelApp(database, settings);
        if (kestrel)
        {
            // A real socket, so that the request has a client address (the in-memory server has none).
            app.UseKestrel(0);
            app.StartServer();
            app.ClientBaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }
        else _ = app.Services;
        return (app, database);
    }

    /// <summary>A client of the Kestrel server that keeps no cookies: each request stands alone.</summary>
    private static HttpClient Cookieless(RelabelApp app) =>
        new(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = app.ClientBaseAddress };

    private static async Task StopAsync(RelabelApp app, string database)
    {
        await app.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await TestDatabase.DropAsync(database);
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient client, string name, string password, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/sign-in") { Content = JsonContent.Create(new { name, password }) };
        if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    [Fact]
    public async Task An_account_is_paused_after_repeated_failures_whoever_sends_them_and_others_are_not()
    {
        var (app, database) = await StartAsync(new() { ["Relabel:SignInFailuresPerAccount"] = "3" });
        try
        {
            using var admin = app.Admin();
            foreach (var name in new[] { "limited", "bystander" })
                Assert.Equal(HttpStatusCode.Created,
                    (await admin.PostAsJsonAsync("/api/users", new { name, roles = new[] { "reviewer" }, password = name + "-password" })).StatusCode);
            using var client = app.Anonymous();
            for (var i = 0; i < 3; i++) await (await SignInAsync(client, "limited", "guess-" + i)).ProblemAsync(HttpStatusCode.Unauthorized);

            // Even the right password waits now, and the answer says for how long; another account is not affected.
            var paused = await SignInAsync(client, "Limited", "limited-password");
            await paused.ProblemAsync(HttpStatusCode.TooManyRequests);
            Assert.True(paused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal(HttpStatusCode.OK, (await SignInAsync(client, "bystander", "bystander-password")).StatusCode);
            // Unknown names are paused alike (the answer does not tell which names exist).
            for (var i = 0; i < 3; i++) await (await SignInAsync(client, "nobody-here", "guess-" + i)).ProblemAsync(HttpStatusCode.Unauthorized);
            await (await SignInAsync(client, "nobody-here", "guess")).ProblemAsync(HttpStatusCode.TooManyRequests);
        }
        finally
        {
            await StopAsync(app, database);
        }
    }

    [Fact]
    public async Task Behind_a_known_proxy_each_forwarded_client_address_has_its_own_limit_and_https_gets_secure_cookies()
    {
        var (app, database) = await StartAsync(new()
        {
            ["Relabel:SignInAttemptsPerMinute"] = "3",
            ["Relabel:KnownProxies"] = "127.0.0.1",
        }, kestrel: true);
        try
        {
            using var client = Cookieless(app);
            for (var i = 0; i < 3; i++)
                await (await SignInAsync(client, "admin", "wrong-" + i, forwardedFor: "203.0.113.1")).ProblemAsync(HttpStatusCode.Unauthorized);
            await (await SignInAsync(client, "admin", "wrong", forwardedFor: "203.0.113.1")).ProblemAsync(HttpStatusCode.TooManyRequests);
            // Another client behind the same proxy is not held back by the first one's attempts.
            var other = await SignInAsync(client, "admin", TestDatabase.AdminPassword, forwardedFor: "203.0.113.2");
            Assert.True(other.StatusCode == HttpStatusCode.OK, await other.Content.ReadAsStringAsync());
            Assert.DoesNotContain(other.Headers.GetValues("Set-Cookie"), c => c.Contains("secure", StringComparison.OrdinalIgnoreCase));

            // The proxy says the client came over HTTPS: the session cookie is Secure.
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/sign-in")
                { Content = JsonContent.Create(new { name = "admin", password = TestDatabase.AdminPassword }) };
            request.Headers.Add("X-Forwarded-For", "203.0.113.3");
            request.Headers.Add("X-Forwarded-Proto", "https");
            var secure = await client.SendAsync(request);
            Assert.True(secure.StatusCode == HttpStatusCode.OK, await secure.Content.ReadAsStringAsync());
            Assert.Contains(secure.Headers.GetValues("Set-Cookie"), c => c.StartsWith("relabel.session=") && c.Contains("secure", StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            await StopAsync(app, database);
        }
    }

    [Fact]
    public async Task Forwarded_headers_from_anyone_but_a_known_proxy_are_ignored_and_the_operator_can_insist_on_secure_cookies()
    {
        var (app, database) = await StartAsync(new()
        {
            ["Relabel:SignInAttemptsPerMinute"] = "3",
            ["Relabel:KnownProxies"] = "10.255.0.1",
            ["Relabel:SecureCookies"] = "true",
        }, kestrel: true);
        try
        {
            using var client = Cookieless(app);
            // The operator says every client comes over HTTPS: the session cookie is Secure though this request is not.
            var signedIn = await SignInAsync(client, "admin", TestDatabase.AdminPassword, forwardedFor: "198.51.100.1");
            Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
            Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("relabel.session=") && c.Contains("secure", StringComparison.OrdinalIgnoreCase));
            // Forwarded addresses from an unknown sender count as that sender's own address: one limit for all of them.
            for (var i = 2; i <= 3; i++)
                await (await SignInAsync(client, "admin", "wrong-" + i, forwardedFor: $"198.51.100.{i}")).ProblemAsync(HttpStatusCode.Unauthorized);
            await (await SignInAsync(client, "admin", TestDatabase.AdminPassword, forwardedFor: "198.51.100.9")).ProblemAsync(HttpStatusCode.TooManyRequests);
        }
        finally
        {
            await StopAsync(app, database);
        }
    }

    [Fact]
    public async Task Unknown_names_and_accounts_without_a_password_cost_a_hash_verification_like_known_ones()
    {
        var (app, database) = await StartAsync([]);
        try
        {
            var hasher = new CountingHasher();
            await using var counted = app.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IPasswordHasher<string>>(hasher)));
            using var admin = counted.CreateClient();
            admin.DefaultRequestHeaders.Authorization = new("Bearer", TestDatabase.AdminToken);
            Assert.Equal(HttpStatusCode.Created,
                (await admin.PostAsJsonAsync("/api/users", new { name = "no-password", roles = new[] { "reviewer" } })).StatusCode);
            using var client = counted.CreateClient();

            foreach (var (name, password) in new[] { ("admin", "wrong-password"), ("nobody-by-this-name", "whatever"), ("no-password", "whatever") })
            {
                var before = hasher.Verifications;
                await (await SignInAsync(client, name, password)).ProblemAsync(HttpStatusCode.Unauthorized);
                Assert.True(hasher.Verifications == before + 1, $"Signing in as '{name}' verified {hasher.Verifications - before} hashes.");
            }
        }
        finally
        {
            await StopAsync(app, database);
        }
    }
}
