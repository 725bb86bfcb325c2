using Dapper;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Accounts;

/// <summary>The first admin, created on the first start (a no-op once any admin exists).</summary>
public sealed class AdminAccountStep(
    NpgsqlDataSource db, IConfiguration configuration, IPasswordHasher<string> hasher, IOptions<RelabelOptions> options,
    ILogger<AdminAccountStep> logger) : IStartupStep
{
    public const string AdminName = "admin";

    public int Order => 200;

    /// <summary>
    /// Creates the admin on first start from RELABEL_ADMIN_PASSWORD / RELABEL_ADMIN_TOKEN, or generates them and shows
    /// them once, on the terminal or in a file of this user's (<see cref="InitialSecrets"/>): never in the log.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
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
            InitialSecrets.Show(options.Value, logger,
                $"""

                 Relabel created the admin account (shown once; set RELABEL_ADMIN_PASSWORD and RELABEL_ADMIN_TOKEN to choose them):
                   name:     {AdminName}
                   password: {password}
                   token:    {token}

                 """);
    }
}
