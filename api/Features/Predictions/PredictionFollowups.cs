using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Predictions;

/// <summary>
/// Finishes prediction uploads after they commit: adds the review items of the new set's top-1 labels and deletes
/// the rows of the set it replaced. An upload records its follow-up in its own transaction and answers; this worker
/// picks it up at once (and at start-up, after a crash). Readers that depend on review items call
/// <see cref="EnsureDoneAsync"/> first (see <see cref="FollowupsFilter"/>), so nobody ever sees an upload without
/// its items; the upload itself does not wait for them.
/// </summary>
public sealed class PredictionFollowups(NpgsqlDataSource db, ILogger<PredictionFollowups> logger) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private long _notified;
    private long _done;

    /// <summary>An upload has committed a follow-up: do it soon.</summary>
    public void Notify()
    {
        Interlocked.Increment(ref _notified);
        _wake.Release();
    }

    /// <summary>Returns once every follow-up notified before the call is done (at once when there is none).</summary>
    public async Task EnsureDoneAsync(CancellationToken ct = default)
    {
        var target = Interlocked.Read(ref _notified);
        if (Interlocked.Read(ref _done) >= target) return;
        await DrainAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // At start-up: whatever a previous process committed but did not finish.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DrainAsync(stoppingToken);
                // Other API processes' uploads are found by polling; this process's own wake it at once.
                await _wake.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning(e, "Prediction follow-ups could not run; retrying");
                try { await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Does every pending follow-up, oldest first, each in its own transaction.</summary>
    private async Task DrainAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var target = Interlocked.Read(ref _notified);
            while (await RunOneAsync(ct)) { }
            // Everything notified before the drain began had committed, so it is done now.
            InterlockedMax(ref _done, target);
        }
        finally { _gate.Release(); }
    }

    private async Task<bool> RunOneAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // Several API processes may share the database: each follow-up is done by one of them.
        var followup = await connection.QuerySingleOrDefaultAsync<(long UploadId, long? ReplacedUploadId)?>(
            """
            select upload_id, replaced_upload_id from prediction_followups
            order by upload_id limit 1 for update skip locked
            """,
            transaction: transaction);
        if (followup is not { } f)
        {
            await transaction.CommitAsync(ct);
            return false;
        }
        // Only a set that is still current needs its items; a newer upload's follow-up covers the newer set.
        var current = await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from prediction_sets where upload_id = @UploadId)", new { f.UploadId }, transaction);
        if (current) await ReviewItemsWriter.EnsureForUploadAsync(connection, transaction, f.UploadId);
        if (f.ReplacedUploadId is { } replaced)
            await connection.ExecuteAsync(
                """
                delete from predictions
                where upload_id = @replaced and not exists (select 1 from prediction_sets where upload_id = @replaced)
                """,
                new { replaced }, transaction);
        await connection.ExecuteAsync("delete from prediction_followups where upload_id = @UploadId", new { f.UploadId }, transaction);
        await transaction.CommitAsync(ct);
        return true;
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref location)) < value && Interlocked.CompareExchange(ref location, value, seen) != seen) { }
    }
}

/// <summary>Endpoints that read review items first let pending prediction follow-ups finish.</summary>
public sealed class FollowupsFilter(PredictionFollowups followups) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        await followups.EnsureDoneAsync(context.HttpContext.RequestAborted);
        return await next(context);
    }
}

public static class PredictionFollowupsExtensions
{
    public static IServiceCollection AddPredictionFollowups(this IServiceCollection services)
    {
        services.AddSingleton<PredictionFollowups>();
        services.AddHostedService(sp => sp.GetRequiredService<PredictionFollowups>());
        return services;
    }

    /// <summary>The group's endpoints see the review items of every upload that answered before them.</summary>
    public static TBuilder AfterPredictionFollowups<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, FollowupsFilter>();
}
