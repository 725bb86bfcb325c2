using System.Net;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Health;

public sealed class HealthTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Readiness_reports_every_migration_applied()
    {
        var ready = await (await fixture.App.Anonymous().GetAsync("/api/health/ready")).JsonAsync();
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.True(ready.GetProperty("migrationsExpected").GetInt32() >= 3);
        Assert.Equal(ready.GetProperty("migrationsExpected").GetInt32(), ready.GetProperty("migrationsApplied").GetInt32());
    }

    [Fact]
    public async Task An_unreachable_database_is_a_503_problem()
    {
        // How fast is make bench's figure health_database_unreachable_seconds.
        using var app = new DownApp();
        using var client = app.CreateClient();
        var health = await (await client.GetAsync("/api/health")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("down", health.GetProperty("database").GetString());
        await (await client.GetAsync("/api/health/ready")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
        await (await client.GetAsync("/api/datasets")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
    }

    /// <summary>The API, not migrating at start (as a replica would), pointed at a port where nothing listens.</summary>
    private sealed class DownApp : Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:Relabel", "Host=127.0.0.1;Port=1;Username=relabel;Database=none;Timeout=2");
            builder.UseSetting("Relabel:MigrateOnStart", "false");
        }
    }
}
