using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Tests.Infrastructure;

/// <summary>
/// Each test class gets its own database, cloned from a template that is migrated and holds WordNet,
/// so tests start from a known state and never see each other's writes.
/// The API and the tests connect as the cluster's ordinary role (RELABEL_TEST_PG), as "make run" does; only creating and
/// dropping databases uses the cluster's superuser (RELABEL_TEST_PG_ADMIN), since that role may not.
/// </summary>
public static class TestDatabase
{
    public const string AdminToken = "rl_test-admin-token-0123456789abcdefghijklmnop";
    public const string AdminPassword = "test-admin-password";
    /// <summary>The demo accounts' password in tests (Relabel:DemoPassword); outside tests each gets a random one.</summary>
    public const string DemoPassword = "test-demo-password";
    private const string Template = "relabel_template";
    private static readonly SemaphoreSlim CloneLock = new(1, 1);
    // Built once for the whole run, whichever test class asks first.
    private static readonly Lazy<Task> Template_ = new(CreateTemplateAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The API's role on the test cluster, without a database.</summary>
    public static string ServerConnectionString => Setting("RELABEL_TEST_PG");

    /// <summary>The cluster's superuser: for creating and dropping databases only.</summary>
    public static string AdminConnectionString => Setting("RELABEL_TEST_PG_ADMIN");

    private static string Setting(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException(
            $"{name} is not set: run the tests with 'make test', which starts a throwaway PostgreSQL cluster.");

    /// <summary>The role the API runs as (it owns every test database).</summary>
    public static string Role => new NpgsqlConnectionStringBuilder(ServerConnectionString).Username!;

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database }.ConnectionString;

    public static async Task<string> CreateAsync()
    {
        await Template_.Value;
        var name = "relabel_t_" + Guid.NewGuid().ToString("N")[..16];
        await CloneLock.WaitAsync();
        try { await ExecuteAsAdminAsync($"create database {name} template {Template} owner {Role}"); }
        finally { CloneLock.Release(); }
        return name;
    }

    /// <summary>An empty database owned by the API's role (a restore target, say).</summary>
    public static Task CreateEmptyAsync(string name) => ExecuteAsAdminAsync($"create database {name} owner {Role}");

    public static Task DropAsync(string database) =>
        ExecuteAsAdminAsync($"drop database if exists {database} with (force)");

    private static async Task CreateTemplateAsync()
    {
        await ExecuteAsAdminAsync($"drop database if exists {Template} with (force)");
        await ExecuteAsAdminAsync($"create database {Template} owner {Role}");
        // Booting the app once migrates (as the API's role), loads WordNet and creates the admin with the known token.
        using (var app = new RelabelApp(Template))
            _ = app.Services;
        NpgsqlConnection.ClearAllPools();
    }

    private static async Task ExecuteAsAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The pgpass file of a connection string, for PostgreSQL's command-line tools (PGPASSFILE).</summary>
    public static string? Passfile(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Passfile;

    /// <summary>A path under the repository (db/cluster.sh, say).</summary>
    public static string RepositoryPath(string relative) => Path.Combine(RepositoryRoot.Find(AppContext.BaseDirectory), relative);
}
