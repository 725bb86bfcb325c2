using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Features.Demo;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Accounts;

/// <summary>No account has a known password: generated ones are shown once, never logged; the demo's go with the demo.</summary>
public sealed class InitialSecretsTests
{
    [Fact]
    public async Task A_generated_admin_secret_is_shown_once_outside_the_log_stream_and_works()
    {
        var database = await TestDatabase.CreateAsync();
        try
        {
            // A database whose admin was never made: the process generates the credentials itself.
            await using (var connection = new Npgsql.NpgsqlConnection(TestDatabase.ConnectionString(database)))
                await connection.ExecuteAsync("delete from api_tokens; delete from users");
            string password, token;
            await using (var api = await ApiProcess.StartAsync(database, knownAdmin: false))
            {
                var shown = await File.ReadAllTextAsync(api.InitialSecretsPath);
                password = Regex.Match(shown, @"password: (\S+)").Groups[1].Value;
                token = Regex.Match(shown, @"token:    (\S+)").Groups[1].Value;
                Assert.True(password.Length >= 20 && token.StartsWith("rl_"), shown);
                if (!OperatingSystem.IsWindows())
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(api.InitialSecretsPath));

                // Standard output is the JSON log stream: it says where the secret is, never what it is.
                Assert.Contains(api.Output, line => line.Contains(api.InitialSecretsPath));
                Assert.DoesNotContain(api.Output, line => line.Contains(password) || line.Contains(token) || line.Contains(token[3..]));

                using var client = api.Anonymous();
                Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "admin", password })).StatusCode);
                using var admin = api.WithToken(token);
                Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/users")).StatusCode);
            }

            // Once: a second start finds the admin and shows nothing.
            await using (var again = await ApiProcess.StartAsync(database, knownAdmin: false))
                Assert.False(File.Exists(again.InitialSecretsPath));
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }

    [Fact]
    public async Task Demo_accounts_get_random_passwords_and_a_production_start_without_the_demo_disables_them()
    {
        var database = await TestDatabase.CreateAsync();
        try
        {
            string reviewerPassword;
            using (var demo = new RelabelApp(database, new Dictionary<string, string?> { ["Relabel:DemoPassword"] = "" }))
            {
                await demo.Services.GetRequiredService<DemoSeeder>().EnsureAccountsAsync();
                var shown = await File.ReadAllTextAsync(demo.InitialSecretsPath);
                var passwords = DemoSeeder.Accounts.Select(a => Regex.Match(shown, $@"{a.Name}\s+(\S+)").Groups[1].Value).ToList();
                Assert.All(passwords, p => Assert.True(p.Length >= 20, shown));
                Assert.Equal(3, passwords.Distinct().Count());
                reviewerPassword = passwords[1];
                Assert.DoesNotContain(demo.Logs.Lines, line => passwords.Any(line.Contains));

                using var client = demo.Anonymous();
                await (await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "demo-reviewer", password = "demo-reviewer-password" }))
                    .ProblemAsync(HttpStatusCode.Unauthorized);
                Assert.Equal(HttpStatusCode.OK,
                    (await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "demo-reviewer", password = reviewerPassword })).StatusCode);
            }

            // The same database started in Production without the demo: the demo's accounts are disabled, and it says so.
            using (var production = new RelabelApp(database, new Dictionary<string, string?> { ["Relabel:Demo"] = "false" }))
            {
                using var client = production.Anonymous();
                await (await client.PostAsJsonAsync("/api/auth/sign-in", new { name = "demo-reviewer", password = reviewerPassword }))
                    .ProblemAsync(HttpStatusCode.Unauthorized);
                Assert.Contains(production.Logs.Lines, line => line.Contains("Disabled 3 demo account(s)"));
                var users = await (await production.Admin().GetAsync("/api/users")).JsonAsync();
                Assert.All(users.EnumerateArray().Where(u => u.GetProperty("name").GetString()!.StartsWith("demo-")),
                    u => Assert.True(u.GetProperty("disabled").GetBoolean()));
            }
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(database);
        }
    }
}
