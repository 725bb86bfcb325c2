using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Tests.Infrastructure;

/// <summary>
/// Each test class gets its own database, cloned from a template that is migrated and holds WordNet,
/// so tests start from a known state and never see each other's writes.
/// </summary>
public static class TestDatabase
{
    public const string AdminToken = "rl_test-admin-token-0123456789abcdefghijklmnop";
    public const string AdminPassword = "test-admin-password";
    private const string Template = "relabel_template";
    private static readonly SemaphoreSlim CloneLock = new(1, 1);
    // Built once for the whole run, whichever test class asks first.
    private static readonly Lazy<Task> Template_ = new(CreateTemplateAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("RELABEL_TEST_PG")
        ?? throw new InvalidOperationException(
            "RELABEL_TEST_PG is not set: run the tests with 'make test', which starts a throwaway PostgreSQL cluster.");

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database }.ConnectionString;

    public static async Task<string> CreateAsync()
    {
        await Template_.Value;
        var name = "relabel_t_" + Guid.NewGuid().ToString("N")[..16];
        await CloneLock.WaitAsync();
        try { await ExecuteAsync($"create database {name} template {Template}"); }
        finally { CloneLock.Release(); }
        return name;
    }

    public static Task DropAsync(string database) =>
        ExecuteAsync($"drop database if exists {database} with (force)");

    private static async Task CreateTemplateAsync()
    {
        await ExecuteAsync($"drop database if exists {Template} with (force)");
        await ExecuteAsync($"create database {Template}");
        // Booting the app once migrates, loads WordNet and creates the admin with the known token.
        using (var app = new RelabelApp(Template))
            _ = app.Services;
        NpgsqlConnection.ClearAllPools();
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
