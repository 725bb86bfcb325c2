using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Relabel.Api.Features.Health;

public sealed record HealthResponse(string Status, string Database, int? SchemaVersions);

public static class HealthApi
{
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/health", Check).WithTags("Health").WithName("GetHealth")
            .WithSummary("200 when the database answers, 503 (problem+json) when it does not.");
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
