using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Labels;

namespace Relabel.Api.Features.Predictions;

/// <summary>
/// Finishes prediction uploads after they commit: adds the review items of the new set's top-1 labels and deletes
/// the rows of the set it replaced (and drops them from <see cref="PredictionsCache"/>). An upload records its follow-up
/// in its own transaction and answers; this worker picks it up at once (and at start-up, after a crash). Readers that
/// depend on review items wait for the follow-ups of their own dataset's uploads that this process answered before they
/// arrived (see <see cref="FollowupsFilter"/>), doing them themselves if the worker has not got to them yet: so nobody
/// sees an upload without its items, and nobody waits for another dataset's uploads or for later ones (a steady stream of
/// uploads never lets a global queue empty). The upload itself does not wait for them.
/// </summary>
public sealed class PredictionFollowups(NpgsqlDataSource db, PredictionsCache cache, ILogger<PredictionFollowups> logger) : BackgroundService
{
    /// <summary>This process's uploads whose follow-ups are not done yet: upload id -> dataset id.</summary>
    private readonly ConcurrentDictionary<long, long> _pending = new();
    /// <summary>A follow-up under way (by the worker or a reader), shared by everyone who waits for it.</summary>
    private readonly ConcurrentDictionary<long, Lazy<Task>> _running = new();
    private readonly SemaphoreSlim _wake = new(0);
    private CancellationToken _stopping;

    /// <summary>An upload to the dataset has committed a follow-up: do it soon.</summary>
    public void Notify(long uploadId, long datasetId)
    {
        _pending[uploadId] = datasetId;
        _wake.Release();
    }

    /// <summary>Whether any follow-up this process notified is not done yet (the readers' fast path).</summary>
    public bool AnyPending => !_pending.IsEmpty;

    /// <summary>Returns once the follow-ups of the dataset's uploads that this process notified before the call are done.</summary>
    public async Task EnsureDoneAsync(long datasetId, CancellationToken ct = default)
    {
        foreach (var (uploadId, dataset) in _pending.ToArray())
            if (dataset == datasetId) await RunAsync(uploadId).WaitAsync(ct);
    }

    /// <summary>Returns once every follow-up this process notified before the call is done (at once when there is none).</summary>
    public async Task EnsureDoneAsync(CancellationToken ct = default)
    {
        foreach (var uploadId in _pending.Keys.Order().ToArray()) await RunAsync(uploadId).WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // This process's own first (readers may be waiting for them), then one that another process committed
                // but did not finish (a crash; found by polling), and again.
                foreach (var uploadId in _pending.Keys.Order().ToArray()) await RunAsync(uploadId);
                if (await OrphanAsync(stoppingToken) is { } orphan)
                {
                    await RunAsync(orphan);
                    continue;
                }
                // This process's uploads wake it at once.
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

    /// <summary>The oldest follow-up nobody is doing right now (several API processes may share the database).</summary>
    private async Task<long?> OrphanAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var uploadId = await connection.QuerySingleOrDefaultAsync<long?>(
            "select upload_id from prediction_followups order by upload_id limit 1 for update skip locked", transaction: transaction);
        await transaction.CommitAsync(ct);
        return uploadId;
    }

    private Task RunAsync(long uploadId) =>
        _running.GetOrAdd(uploadId, id => new Lazy<Task>(() => Task.Run(() => RunOneAsync(id)))).Value;

    /// <summary>One follow-up in its own transaction; if another process is doing it, waits for that and finds it done.</summary>
    private async Task RunOneAsync(long uploadId)
    {
        try
        {
            long? replaced = null;
            await using (var connection = await db.OpenConnectionAsync(_stopping))
            await using (var transaction = await connection.BeginTransactionAsync(_stopping))
            {
                var followup = await connection.QuerySingleOrDefaultAsync<(long UploadId, long? ReplacedUploadId)?>(
                    "select upload_id, replaced_upload_id from prediction_followups where upload_id = @uploadId for update",
                    new { uploadId }, transaction);
                if (followup is { } f)
                {
                    // Only a set that is still current needs its items; a newer upload's follow-up covers the newer set.
                    var current = await connection.ExecuteScalarAsync<bool>(
                        "select exists (select 1 from prediction_sets where upload_id = @UploadId)", new { f.UploadId }, transaction);
                    if (current) await LabelImport.EnsureItemsForUploadAsync(connection, transaction, f.UploadId);
                    if (f.ReplacedUploadId is { } r)
                        await connection.ExecuteAsync(
                            """
                            delete from prediction_blocks
                            where upload_id = @r and not exists (select 1 from prediction_sets where upload_id = @r)
                            """,
                            new { r }, transaction);
                    await connection.ExecuteAsync("delete from prediction_followups where upload_id = @UploadId", new { f.UploadId }, transaction);
                    replaced = f.ReplacedUploadId;
                }
                await transaction.CommitAsync(_stopping);
            }
            if (replaced is { } old) cache.EvictUpload(old);
            _pending.TryRemove(uploadId, out _);
        }
        finally
        {
            _running.TryRemove(uploadId, out _);
        }
    }
}

/// <summary>
/// Endpoints that read review items first let the pending prediction follow-ups of their dataset finish: the dataset
/// the request names (a "dataset" query parameter, /api/datasets/{slug}/…) or the one of the image, item or labeling
/// task in its path. Nothing is looked up while no follow-up of this process is pending; a request that names no
/// dataset waits for every follow-up pending when it arrived.
/// </summary>
public sealed class FollowupsFilter(PredictionFollowups followups, NpgsqlDataSource db) : IEndpointFilter
{
    /// <summary>Route prefixes whose {id} names something of one dataset, and how to find that dataset.</summary>
    private static readonly (string Prefix, string Sql)[] DatasetOfId =
    [
        ("/api/images/{id", "select dataset_id from images where id = @id"),
        ("/api/review/images/{id", "select dataset_id from images where id = @id"),
        ("/api/review/items/{id", "select i.dataset_id from review_items r join images i on i.id = r.image_id where r.id = @id"),
        ("/api/labeling/tasks/{id", "select dataset_id from labeling_tasks where id = @id"),
    ];

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (followups.AnyPending)
        {
            var http = context.HttpContext;
            var ct = http.RequestAborted;
            var datasetId = await DatasetOfAsync(http, ct);
            if (datasetId is { } id) await followups.EnsureDoneAsync(id, ct);
            else await followups.EnsureDoneAsync(ct);
        }
        return await next(context);
    }

    private async Task<long?> DatasetOfAsync(HttpContext http, CancellationToken ct)
    {
        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "";
        string? slug = http.Request.Query["dataset"].FirstOrDefault();
        if (slug is null && pattern.StartsWith("/api/datasets/{slug}", StringComparison.Ordinal)) slug = http.GetRouteValue("slug") as string;
        await using var connection = await db.OpenConnectionAsync(ct);
        if (slug is not null)
            return await connection.QuerySingleOrDefaultAsync<long?>("select id from datasets where slug = @slug", new { slug }) ?? -1;
        foreach (var (prefix, sql) in DatasetOfId)
            if (pattern.StartsWith(prefix, StringComparison.Ordinal) && long.TryParse(http.GetRouteValue("id") as string, out var id))
                return await connection.QuerySingleOrDefaultAsync<long?>(sql, new { id }) ?? -1;
        return null;
    }
}

public static class PredictionFollowupsExtensions
{
    /// <param name="worker">Carry out follow-ups in this process (not on a read replica).</param>
    public static IServiceCollection AddPredictionFollowups(this IServiceCollection services, bool worker = true)
    {
        services.AddSingleton<PredictionFollowups>();
        if (worker) services.AddHostedService(sp => sp.GetRequiredService<PredictionFollowups>());
        return services;
    }

    /// <summary>The group's endpoints see the review items of every upload that answered before them.</summary>
    public static TBuilder AfterPredictionFollowups<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, FollowupsFilter>();
}
