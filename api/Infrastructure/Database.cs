using System.Reflection;
using Dapper;
using DbUp;
using DbUp.Engine.Output;
using Npgsql;

namespace Relabel.Api.Infrastructure;

public static class Database
{
    public static void AddRelabelDatabase(this WebApplicationBuilder builder)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        var connectionString = ConnectionString(builder.Configuration);
        builder.Services.AddNpgsqlDataSource(connectionString);
        // The review loop's statements are few, simple and run constantly: prepared once per pooled connection, they
        // skip parsing and planning (about as costly as running them). Only there: elsewhere a generic plan chosen on
        // one dataset's statistics may be a scan on another's (with it on everywhere, uploads under mixed load took seconds).
        builder.Services.AddNpgsqlDataSource(connectionString, dataSource =>
        {
            if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
                dataSource.ConnectionStringBuilder.MaxAutoPrepare = 50;
            // Its pool, the side and scans ones and the default one (100) together stay under the server's connection
            // limit (200 in make run).
            if (!connectionString.Contains("Pool Size", StringComparison.OrdinalIgnoreCase))
                dataSource.ConnectionStringBuilder.MaxPoolSize = 40;
        }, serviceKey: Prepared);
        builder.Services.AddNpgsqlDataSource(connectionString, dataSource =>
        {
            if (!connectionString.Contains("Pool Size", StringComparison.OrdinalIgnoreCase))
                dataSource.ConnectionStringBuilder.MaxPoolSize = 10;
        }, serviceKey: Side);
        // Two connections that stay open (idle ones are otherwise closed after 5 minutes): see Scans.
        builder.Services.AddNpgsqlDataSource(connectionString, dataSource =>
        {
            if (!connectionString.Contains("Pool Size", StringComparison.OrdinalIgnoreCase))
                (dataSource.ConnectionStringBuilder.MinPoolSize, dataSource.ConnectionStringBuilder.MaxPoolSize) = (2, 2);
        }, serviceKey: Scans);
    }

    /// <summary>The key of the data source whose frequent statements are prepared (see <see cref="AddRelabelDatabase"/>).</summary>
    public const string Prepared = "prepared";

    /// <summary>
    /// The key of a small pool for short reads made beside a write that holds a connection of the default pool (an
    /// upload's decided pairs, read while it commits). From the same pool they could deadlock: many writers each holding
    /// a connection while waiting for another. These never wait for anything but the database.
    /// </summary>
    public const string Side = "side";

    /// <summary>
    /// The key of a small pool that stays open, for reads of a whole label state (a zoo's quarter of a million review
    /// items). A server process reaches each page of the shared buffers through its own page table: the first scan in a
    /// new one took 195 ms against 83 ms in one that had scanned before (bench_zooboard, 1,000 models). Any connection of
    /// the default pool may be new, and its idle ones close after 5 minutes.
    /// </summary>
    public const string Scans = "scans";

    public static string ConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString("Relabel") ?? DefaultConnectionString;

    /// <summary>The project-local cluster that "make run" starts.</summary>
    public const string DefaultConnectionString =
        "Host=127.0.0.1;Port=54329;Username=relabel;Database=relabel;Timeout=5;Command Timeout=120";

    /// <summary>Applies db/migrations/NNNN_name.sql in order, each in its own transaction, recorded in schemaversions.</summary>
    public static void Migrate(string connectionString, ILogger logger)
    {
        EnsureDatabase.For.PostgresqlDatabase(connectionString, new UpgradeLogAdapter(logger));
        var upgrader = DeployChanges.To
            .PostgresqlDatabase(connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.Contains(".Migrations."))
            .WithTransactionPerScript()
            .LogTo(new UpgradeLogAdapter(logger))
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
            throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
    }

    /// <summary>The embedded migration scripts, by the names DbUp records in schemaversions.</summary>
    public static IReadOnlyList<string> MigrationNames() =>
        Assembly.GetExecutingAssembly().GetManifestResourceNames().Where(name => name.Contains(".Migrations.")).Order().ToList();

    private sealed class UpgradeLogAdapter(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) =>
            logger.LogInformation("{Message}", string.Format(format, args));
        public void LogWarning(string format, params object[] args) =>
            logger.LogWarning("{Message}", string.Format(format, args));
        public void LogError(string format, params object[] args) =>
            logger.LogError("{Message}", string.Format(format, args));
        public void LogError(Exception ex, string format, params object[] args) =>
            logger.LogError(ex, "{Message}", string.Format(format, args));
    }
}
