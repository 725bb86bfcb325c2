using Dapper;
using Npgsql;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// Per-row foreign-key checks turned off for one bulk copy whose references the caller guarantees otherwise (rows
/// it checked and locked itself). They cost more than the copy: a check per reference per row. Only a role that may
/// change session_replication_role can; any other keeps the checks and is merely slower. The setting is local to the
/// transaction (a rollback to a savepoint before it undoes it too), and it also silences ordinary triggers: use it
/// only on tables whose triggers are all foreign-key checks.
/// </summary>
public static class ReferenceChecks
{
    /// <summary>Turns the checks off if the role may; returns whether it did.</summary>
    public static async Task<bool> SkipAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var may = await connection.QuerySingleAsync<bool>(
            "select rolsuper from pg_roles where rolname = current_user", transaction: transaction);
        if (may) await connection.ExecuteAsync("set local session_replication_role = replica", transaction: transaction);
        return may;
    }

    public static Task RestoreAsync(NpgsqlConnection connection, NpgsqlTransaction transaction) =>
        connection.ExecuteAsync("set local session_replication_role = origin", transaction: transaction);
}
