using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Features.Demo;
using Relabel.Api.Features.Synsets;

namespace Relabel.Api.Infrastructure;

/// <summary>Start-up work, each step a no-op once done: migrations, WordNet, the first admin, the demo.</summary>
public static class Bootstrap
{
    public const string AdminName = "admin";

    public static async Task RunAsync(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Relabel.Bootstrap");
        var options = app.Services.GetRequiredService<IOptions<RelabelOptions>>().Value;
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        if (!options.MigrateOnStart || options.ReadReplica)
        {
            logger.LogInformation("Start-up migrations are off (Relabel:MigrateOnStart = false, or a read replica)");
            return;
        }

        Database.Migrate(Database.ConnectionString(app.Configuration), logger);
        await WordNetLoader.LoadIfEmptyAsync(db, options.WordNetPath, logger);
        await EnsureAdminAsync(db, app.Configuration, app.Services.GetRequiredService<IPasswordHasher<string>>(), options, logger);
        var demo = app.Services.GetRequiredService<DemoSeeder>();
        if (!options.Demo)
        {
            // A production server started without the demo keeps no demo account that could sign in.
            if (app.Environment.IsProduction()) await demo.DisableAccountsAsync();
        }
        else
        {
            await demo.EnsureAccountsAsync();
            await demo.SeedIfMissingAsync();
            await app.Services.GetRequiredService<DemoPredictionsSeeder>().SeedIfMissingAsync();
            await app.Services.GetRequiredService<DemoVerdictsSeeder>().SeedIfMissingAsync();
        }
    }

    /// <summary>
    /// Creates the admin on first start from RELABEL_ADMIN_PASSWORD / RELABEL_ADMIN_TOKEN, or generates them and shows
    /// them once, on the terminal or in a file of this user's (<see cref="InitialSecrets"/>): never in the log.
    /// </summary>
    private static async Task EnsureAdminAsync(
        NpgsqlDataSource db, IConfiguration configuration, IPasswordHasher<string> hasher, RelabelOptions options, ILogger logger)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from users where 'admin' = any(roles))")) return;

        var password = configuration["RELABEL_ADMIN_PASSWORD"];
        var token = configuration["RELABEL_ADMIN_TOKEN"];
        var generated = password is null || token is null;
        password ??= Auth.NewToken()[3..];
        token ??= Auth.NewToken();

        await using var transaction = await connection.BeginTransactionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into users (name, display_name, password_hash, roles) values (@AdminName, 'Administrator', @hash, array['admin'])
            on conflict (name) do update set roles = array(select distinct unnest(users.roles || array['admin']))
            returning id
            """,
            new { AdminName, hash = hasher.HashPassword(AdminName, password) }, transaction);
        await connection.ExecuteAsync(
            "insert into api_tokens (user_id, name, token_hash) values (@id, 'bootstrap', @hash) on conflict do nothing",
            new { id, hash = Auth.HashToken(token) }, transaction);
        await transaction.CommitAsync();
        if (generated)
            InitialSecrets.Show(options, logger,
                $"""

                 Relabel created the admin account (shown once; set RELABEL_ADMIN_PASSWORD and RELABEL_ADMIN_TOKEN to choose them):
                   name:     {AdminName}
                   password: {password}
                   token:    {token}

                 """);
    }
}
