using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Relabel.Api.Features.Health;

public sealed record HealthResponse(string Status, string Database, int? SchemaVersions);

public sealed record ReadinessResponse(string Status, string Database, int MigrationsApplied, int MigrationsExpected);

public static class HealthApi
{
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/health", Check).WithTags("Health").WithName("GetHealth")
            .WithSummary("Liveness: 200 when the database answers, 503 (problem+json) when it does not.");
        routes.MapGet("/api/health/ready", Ready).WithTags("Health").WithName("GetReadiness")
            .WithSummary("Readiness: 200 when the database answers and every migration is applied, else 503.");
    }

    public static async Task<Results<Ok<ReadinessResponse>, ProblemHttpResult>> Ready(NpgsqlDataSource db, CancellationToken ct)
    {
        var expected = Infrastructure.Database.MigrationNames().Count;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await db.OpenConnectionAsync(timeout.Token);
            var applied = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "select count(*)::int from schemaversions where scriptname = any(@names)",
                new { names = Infrastructure.Database.MigrationNames().ToArray() }, cancellationToken: timeout.Token));
            if (applied < expected)
                return TypedResults.Problem(title: "Migrations pending", statusCode: 503,
                    detail: $"{applied} of {expected} migrations are applied.");
            return TypedResults.Ok(new ReadinessResponse("ready", "up", applied, expected));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return TypedResults.Problem(title: "Database unavailable", statusCode: 503,
                detail: "The database does not answer.", extensions: new Dictionary<string, object?> { ["database"] = "down" });
        }
    }

    public static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> Check(NpgsqlDataSource db, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await db.OpenConnectionAsync(timeout.Token);
            var versions = await connection.ExecuteScalarAsync<int>(
                new CommandDefinition("select count(*)::int from schemaversions", cancellationToken: timeout.Token));
            return TypedResults.Ok(new HealthResponse("ok", "up", versions));
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return TypedResults.Problem(title: "Database unavailable", statusCode: 503,
                detail: "The database does not answer.", extensions: new Dictionary<string, object?> { ["database"] = "down" });
        }
    }
}
