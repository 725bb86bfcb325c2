using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit;

namespace Relabel.Api.Tests.Infrastructure;

/// <summary>The real API on a real database; only the settings differ from "make run".</summary>
public sealed class RelabelApp(string database, IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public string Database { get; } = database;
    public string ImageRoot { get; } = Path.Combine(Path.GetTempPath(), "relabel-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Services that replace the app's own (a test clock, say).</summary>
    public Action<IServiceCollection>? TestServices { get; init; }
    /// <summary>Where the app writes credentials it generates (never a terminal in tests).</summary>
    public string InitialSecretsPath => Path.Combine(ImageRoot, "initial-secrets.txt");

    /// <summary>Everything the app logged, at every level.</summary>
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<CapturedLogs>(null, LogLevel.Trace);
        });
        builder.UseSetting("ConnectionStrings:Relabel", TestDatabase.ConnectionString(Database));
        builder.UseSetting("Relabel:ImageRoot", ImageRoot);
        builder.UseSetting("Relabel:SignInAttemptsPerMinute", "1000");
        builder.UseSetting("Relabel:BoardVariantBurst", "100000");
        builder.UseSetting("RELABEL_ADMIN_TOKEN", TestDatabase.AdminToken);
        builder.UseSetting("RELABEL_ADMIN_PASSWORD", TestDatabase.AdminPassword);
        builder.UseSetting("Relabel:DemoPassword", TestDatabase.DemoPassword);
        builder.UseSetting("Relabel:InitialSecretsPath", InitialSecretsPath);
        builder.UseSetting("Relabel:InitialSecretsOnTerminal", "false");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
        if (TestServices is { } configure) builder.ConfigureTestServices(configure);
    }

    public NpgsqlDataSource Db => Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>
    /// Waits for the work that follows prediction uploads (review items, deletion of replaced rows), for tests that
    /// look at those tables directly; the API's own readers of review items wait by themselves.
    /// </summary>
    public Task FollowupsDoneAsync() => Services.GetRequiredService<Relabel.Api.Features.Predictions.PredictionFollowups>().EnsureDoneAsync();

    /// <summary>Where clients send requests: the in-memory server, or the Kestrel address of a browser test's server.</summary>
    public Uri ClientBaseAddress { get; set; } = new("http://localhost");

    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = ClientBaseAddress });

    public HttpClient WithToken(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient Admin() => WithToken(TestDatabase.AdminToken);

    /// <summary>Creates a user with the roles and returns a client holding a fresh API token of theirs.</summary>
    public async Task<HttpClient> UserAsync(string name, params string[] roles)
    {
        using var admin = Admin();
        var created = await admin.PostAsJsonAsync("/api/users", new { name, roles, password = name + "-password" });
        created.EnsureSuccessStatusCode();
        var token = await admin.PostAsJsonAsync($"/api/users/{name}/tokens", new { name = "test" });
        token.EnsureSuccessStatusCode();
        var body = await token.Content.ReadFromJsonAsync<TokenBody>();
        return WithToken(body!.Token);
    }

    private sealed record TokenBody(long Id, string Token);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (Directory.Exists(ImageRoot)) Directory.Delete(ImageRoot, recursive: true);
    }
}

/// <summary>A test class's own database and app, created once for the class.</summary>
public class ApiFixture : IAsyncLifetime
{
    private RelabelApp? _app;

    public RelabelApp App => _app ?? throw new InvalidOperationException("Fixture not initialised.");

    protected virtual IDictionary<string, string?>? Settings => null;

    /// <summary>Services that replace the app's own for this fixture's app.</summary>
    protected virtual void ConfigureServices(IServiceCollection services) { }

    public async Task InitializeAsync()
    {
        var database = await TestDatabase.CreateAsync();
        _app = new RelabelApp(database, Settings) { TestServices = ConfigureServices };
        _ = _app.Services;
    }

    public async Task DisposeAsync()
    {
        if (_app is null) return;
        var database = _app.Database;
        await _app.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestDatabase.DropAsync(database);
    }
}
