using System.Security.Claims;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Jobs;

// A write accepted as a background job: poll Location.
public sealed record JobAccepted(long JobId, string Status, string Location);

// An import whose content was imported before: nothing to do.
public sealed record ImportUnchanged(string Status, string Detail);

public sealed record JobResponse(
    long Id, string Kind, string? Dataset, string Status, long Done, long Total, double Progress, string Message,
    JsonElement? Result, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

/// <summary>What a running job may do: report progress, and finish with a result.</summary>
public sealed class JobContext(long id, NpgsqlDataSource db)
{
    private DateTime _lastReport = DateTime.MinValue;

    public long Id => id;
    public NpgsqlDataSource Db => db;

    /// <summary>Records progress, at most a few times a second.</summary>
    public async Task ReportAsync(long done, long total, string message, bool force = false)
    {
        if (!force && DateTime.UtcNow - _lastReport < TimeSpan.FromMilliseconds(250)) return;
        _lastReport = DateTime.UtcNow;
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "update jobs set done = @done, total = @total, message = @message where id = @id", new { id, done, total, message });
    }
}

/// <summary>
/// Runs long imports and aggregations in the background, one at a time, recording status and progress in the jobs
/// table. Every job names the process that runs it (its runner), which marks its jobs alive every few seconds; a job
/// whose runner stopped marking it (a crash, a restart) is marked failed by any process within <see cref="Stale"/>, at
/// start-up or later (its work was one transaction, so nothing half-done remains). A process never fails the jobs of
/// another that is alive, so several API processes may share the database.
/// </summary>
public sealed class JobQueue(NpgsqlDataSource db, ILogger<JobQueue> logger) : BackgroundService
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);

    private readonly Channel<(long Id, Func<JobContext, Task<object>> Work)> _queue = Channel.CreateUnbounded<(long, Func<JobContext, Task<object>>)>();

    /// <summary>This process, as the runner of its jobs.</summary>
    public Guid Runner { get; } = Guid.NewGuid();

    public async Task<long> EnqueueAsync(string kind, long? datasetId, long userId, long total, Func<JobContext, Task<object>> work)
    {
        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into jobs (kind, dataset_id, created_by, total, runner, heartbeat_at)
            values (@kind, @datasetId, @userId, @total, @runner, now())
            returning id
            """,
            new { kind, datasetId, userId, total, runner = Runner });
        await _queue.Writer.WriteAsync((id, work));
        return id;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var heartbeat = Task.Run(() => HeartbeatAsync(stoppingToken), CancellationToken.None);
        try
        {
            await foreach (var (id, work) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await SetAsync(id, "update jobs set status = 'running', started_at = now() where id = @id", null);
                try
                {
                    var result = await work(new JobContext(id, db));
                    await SetAsync(id,
                        "update jobs set status = 'succeeded', finished_at = now(), done = total, result = @result::jsonb where id = @id",
                        JsonSerializer.Serialize(result, JsonSerializerOptions.Web));
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Job {JobId} failed", id);
                    await SetAsync(id, "update jobs set status = 'failed', finished_at = now(), message = @result where id = @id",
                        e is JobFailedException ? e.Message : "The job failed; see the server log for trace " + id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        await heartbeat;
    }

    /// <summary>Marks this process's unfinished jobs alive, and fails those whose runner stopped doing so.</summary>
    private async Task HeartbeatAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync(stoppingToken);
                await connection.ExecuteAsync(
                    """
                    update jobs set heartbeat_at = now() where runner = @runner and status in ('queued', 'running');
                    update jobs set status = 'failed', finished_at = now(),
                                    message = 'Its API process stopped (a restart or a crash); nothing was written. Run it again.'
                    where status in ('queued', 'running')
                      and (heartbeat_at is null or heartbeat_at < now() - make_interval(secs => @stale))
                      and runner is distinct from @runner
                    """,
                    new { runner = Runner, stale = Stale.TotalSeconds });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning(e, "Could not mark this process's jobs alive");
            }
            try { await Task.Delay(Heartbeat, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task SetAsync(long id, string sql, string? result)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, new { id, result });
    }
}

/// <summary>A failure whose message is meant for the user.</summary>
public sealed class JobFailedException(string message) : Exception(message);

public static class JobsApi
{
    /// <param name="workers">Run queued jobs in this process (not on a read replica).</param>
    public static void AddRelabelJobs(this IServiceCollection services, bool workers = true)
    {
        services.AddSingleton<JobQueue>();
        if (workers) services.AddHostedService(sp => sp.GetRequiredService<JobQueue>());
    }

    public static void MapJobs(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/jobs/{id:long}", Get).WithTags("Jobs").WithName("GetJob")
            .RequireAuthorization(Policies.SignedIn)
            .WithSummary("A background job (import, aggregation): status, progress and, when done, its result.");
    }

    // timestamptz arrives as a UTC DateTime.
    private sealed record JobRow(long Id, string Kind, string? Dataset, string Status, long Done, long Total, string Message,
        string? Result, DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt);

    public static async Task<Results<Ok<JobResponse>, ProblemHttpResult>> Get(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        // Another user's job does not exist for the caller, as another labeler's task does not.
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<JobRow>(
            """
            select j.id, j.kind, d.slug as dataset, j.status, j.done, j.total, j.message, j.result::text as result,
                   j.created_at, j.started_at, j.finished_at
            from jobs j left join datasets d on d.id = j.dataset_id
            where j.id = @id and (j.created_by = @me or @admin)
            """,
            new { id, me = user.UserId(), admin = user.IsInRole(Roles.Admin) });
        if (row is null) return Problems.NotFound($"Job {id} does not exist.");
        var progress = row.Status == "succeeded" ? 1.0 : row.Total > 0 ? Math.Min(1.0, (double)row.Done / row.Total) : 0.0;
        return TypedResults.Ok(new JobResponse(row.Id, row.Kind, row.Dataset, row.Status, row.Done, row.Total, progress, row.Message,
            row.Result is null ? null : JsonDocument.Parse(row.Result).RootElement.Clone(),
            new DateTimeOffset(row.CreatedAt), row.StartedAt is { } s ? new DateTimeOffset(s) : null, row.FinishedAt is { } f ? new DateTimeOffset(f) : null));
    }
}
