using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Features.Models;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Predictions;

/// <param name="Images">Rows uploaded (one per image).</param>
/// <param name="Labels">Labels uploaded (images x k).</param>
/// <param name="Coverage">Predicted images / images of the dataset.</param>
/// <param name="UploadId">The upload's record; 0 for a dry run.</param>
/// <param name="Outcome">applied (the new current set) or unchanged (identical to the current set: a no-op); for a dry
/// run, what the upload would do.</param>
/// <param name="NewForReview">Top-1 (image, label) pairs of the current set that no verdict covers yet.</param>
/// <param name="DryRun">The body was only checked (?dryRun=true): nothing was written.</param>
public sealed record UploadPredictionsResponse(
    long UploadId,
    string Outcome,
    string Model,
    string Dataset,
    int Images,
    int Labels,
    int K,
    bool Partial,
    long DatasetImages,
    double Coverage,
    long NewForReview,
    string Checksum,
    double ElapsedMs,
    bool DryRun = false);

public sealed record PredictionSetResponse
{
    public required string Dataset { get; init; }
    public required long UploadId { get; init; }
    public required int K { get; init; }
    public required int Rows { get; init; }
    public required long DatasetImages { get; init; }
    public required double Coverage { get; init; }
    public required string Checksum { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

public sealed record PredictionUploadResponse
{
    public required long Id { get; init; }
    public required string Dataset { get; init; }
    public required string UploadedBy { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string Format { get; init; }
    public required int Rows { get; init; }
    public required int K { get; init; }
    public required bool Partial { get; init; }
    public required string Checksum { get; init; }
    public required string Outcome { get; init; }
    public required double ElapsedMs { get; init; }
    /// <summary>Whether this upload's rows are the model's current predictions on the dataset.</summary>
    public required bool Current { get; init; }
}

public static class PredictionsApi
{
    public const string Json = "application/json";
    public const string Csv = "text/csv";
    public const string Ndjson = "application/x-ndjson";

    public static RouteGroupBuilder MapPredictions(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/models/{slug}").WithTags("Predictions").WithValidation();
        group.MapGet("/predictions", Sets).WithName("ListPredictionSets")
            .WithSummary("The datasets a model has predictions on, with k, rows and coverage.");
        group.MapPut("/predictions/{dataset}", Upload).WithName("UploadPredictions").RequireAuthorization(Policies.Uploader)
            .RawBody("JSON {\"predictions\":[{\"image\":\"…\",\"labels\":[…],\"scores\":[…]}]}, CSV 'image,label1,…,labelk[,score1,…,scorek]' or NDJSON (one row object per line); Content-Encoding: gzip accepted.",
                Json, Csv, Ndjson)
            .WithSummary("Replace the model's predictions on a dataset, atomically: 1-5 ranked labels per image (wnids or class indices). The owner or an admin. With dryRun=true the whole body is checked and nothing is written.");
        group.MapGet("/predictions/{dataset}", Download).WithName("DownloadPredictions")
            .Produces(200, contentType: Json).Produces(200, contentType: Csv)
            .WithSummary("The current predictions as stored, in JSON or CSV: uploading them again is a no-op.");
        group.MapDelete("/predictions/{dataset}", Delete).WithName("DeletePredictions").RequireAuthorization(Policies.Uploader)
            .WithSummary("Remove the model's predictions on a dataset (the upload history stays).");
        group.MapGet("/uploads", Uploads).WithName("ListPredictionUploads")
            .WithSummary("Every upload of the model, newest first: who, when, rows, checksum, outcome.");
        routes.MapGet("/api/datasets/{dataset}/prediction-template", Template).WithTags("Predictions").WithName("PredictionTemplate")
            .Produces(200, contentType: Csv)
            .WithSummary("A CSV to fill in: the header 'image,label1,…,labelk' and one row per image of the dataset with its label cells empty.");
        return group;
    }

    private sealed record Target(long ModelId, long OwnerId, long? DatasetId, long? LabelSpaceId, long ImageEpoch);

    private static async Task<(Target? Target, ProblemHttpResult? Problem)> FindAsync(
        NpgsqlConnection connection, string slug, string dataset)
    {
        var target = await connection.QuerySingleOrDefaultAsync<Target>(
            """
            select m.id as model_id, m.owner_id, d.id as dataset_id, d.label_space_id,
                   coalesce((select e.epoch from dataset_image_epochs e where e.dataset_id = d.id), -1) as image_epoch
            from models m left join datasets d on d.slug = @dataset
            where m.slug = @slug
            """,
            new { slug, dataset });
        if (target is null) return (null, Problems.NotFound($"Model '{slug}' does not exist."));
        if (target.DatasetId is null) return (null, Problems.NotFound($"Dataset '{dataset}' does not exist."));
        return (target, null);
    }

    private static bool MayWrite(ClaimsPrincipal user, string slug, Target target) => ModelRules.MayChange(user, slug, target.OwnerId);

    /// <summary>
    /// A dry run may name a model that does not exist yet: its first upload is checked before the model is made (the
    /// caller would own it). Model id 0 stands for that model.
    /// </summary>
    private static async Task<(Target? Target, ProblemHttpResult? Problem)> FindForDryRunAsync(
        NpgsqlConnection connection, string slug, string dataset, ClaimsPrincipal user)
    {
        var (target, problem) = await FindAsync(connection, slug, dataset);
        if (target is not null || await connection.ExecuteScalarAsync<bool>("select exists (select 1 from models where slug = @slug)", new { slug }))
            return (target, problem);
        if (!System.Text.RegularExpressions.Regex.IsMatch(slug, ModelRules.SlugPattern))
            return (null, Problems.Unprocessable("Invalid slug", "slug", "Lowercase letters, digits, '.', '_' and '-', at most 100 characters."));
        if (ModelRules.IsReserved(slug) && !user.IsInRole(Roles.Admin)) return (null, ModelsApi.Forbidden(slug));
        var found = await connection.QuerySingleOrDefaultAsync<Target>(
            """
            select 0::bigint as model_id, @userId as owner_id, d.id as dataset_id, d.label_space_id,
                   coalesce((select e.epoch from dataset_image_epochs e where e.dataset_id = d.id), -1) as image_epoch
            from datasets d where d.slug = @dataset
            """,
            new { dataset, userId = user.UserId() });
        return found is null ? (null, Problems.NotFound($"Dataset '{dataset}' does not exist.")) : (found, null);
    }

    /// <param name="labels">How labels are written: wnid (default) or index (class indices of the dataset's label space).</param>
    /// <param name="partial">Accept predictions for a subset of the images (default: every image exactly once).</param>
    /// <param name="dryRun">Check the whole body and answer what the upload would do, writing nothing; the model need
    /// not exist yet (a new model's first file is checked before the model is made).</param>
    public static async Task<Results<Ok<UploadPredictionsResponse>, ProblemHttpResult>> Upload(
        string slug, string dataset, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db,
        [FromKeyedServices(Database.Side)] NpgsqlDataSource side,
        PredictionTargetsCache targetsCache, PredictionFollowups followups, IOptions<RelabelOptions> options, ILoggerFactory loggers,
        string? labels = null, bool partial = false, bool dryRun = false)
    {
        var elapsed = Stopwatch.StartNew();
        var request = context.Request;
        var format = FormatOf(request.ContentType);
        if (format is null)
            return TypedResults.Problem(title: "Unsupported content type", statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: $"Send {Json}, {Csv} or {Ndjson} (optionally with Content-Encoding: gzip).");
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        if (encoding is not ("" or "identity" or "gzip" or "x-gzip"))
            return TypedResults.Problem(title: "Unsupported content encoding", statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: $"Content-Encoding '{encoding}' is not supported; send gzip or no encoding.");
        LabelMode mode;
        switch (labels?.ToLowerInvariant())
        {
            case null or "wnid": mode = LabelMode.Wnid; break;
            case "index": mode = LabelMode.Index; break;
            default: return Problems.Unprocessable("Invalid labels", "labels", "labels must be 'wnid' or 'index'.");
        }
        var maxBytes = options.Value.MaxPredictionBytes;
        if (RequestLimits.Apply(context, maxBytes) is { } tooLarge) return tooLarge;

        PredictionTargets targets;
        Target target;
        await using (var connection = await db.OpenConnectionAsync(context.RequestAborted))
        {
            var (found, problem) = dryRun ? await FindForDryRunAsync(connection, slug, dataset, user) : await FindAsync(connection, slug, dataset);
            if (problem is not null) return problem;
            target = found!;
            if (!MayWrite(user, slug, target)) return ModelsApi.Forbidden(slug);
            targets = await targetsCache.GetAsync(connection, target.DatasetId!.Value, target.LabelSpaceId!.Value, target.ImageEpoch);
        }
        if (targets.ImageCount == 0)
            return Problems.Unprocessable("The dataset has no images", "dataset", $"Register the images of '{dataset}' before uploading predictions.");

        var datasetId = target.DatasetId!.Value;
        var maxRows = options.Value.MaxRowsPerUpload;
        // The body arrives whole before the database is touched: a slow sender holds no connection (see ReceiveAsync).
        var received = await RequestLimits.ReceiveAsync(request, maxBytes, context.RequestAborted);
        var receivedMs = elapsed.Elapsed.TotalMilliseconds;
        var parser = new PredictionParser(targets, mode, maxRows);
        // Valid rows go to the database while the body is being parsed; errors roll it all back. A dry run only parses.
        await using var writer = dryRun ? null : new PredictionWriter(db, target.ModelId, datasetId, user.UserId(), format, partial, context.RequestAborted);
        parser.RowAdded = writer is null ? null : writer.Add;
        // Decompressed bodies are bounded too, against compression bombs; so is every line of CSV and NDJSON.
        Stream body = encoding is "gzip" or "x-gzip"
            ? new BoundedStream(new GZipStream(received, CompressionMode.Decompress, leaveOpen: true), maxBytes * 10)
            : received;
        var maxLine = options.Value.MaxLineBytes;
        if (format != "json") body = new LineLengthLimitedStream(body, maxLine);
        await using var _ = body;
        try
        {
            switch (format)
            {
                case "json": await parser.ParseJsonAsync(body, context.RequestAborted); break;
                case "csv": await parser.ParseCsvAsync(body, context.RequestAborted); break;
                default: await parser.ParseNdjsonAsync(body, context.RequestAborted); break;
            }
        }
        catch (InvalidDataException e)
        {
            parser.Errors.Add(1, "body", $"The body is not valid gzip: {e.Message}");
        }
        catch (LineTooLongException e)
        {
            parser.Errors.Add(e.Line, "line", $"Line {e.Line} is longer than {e.Limit} bytes (Relabel:MaxLineBytes); a prediction row is far shorter.");
        }
        if (parser.RowCount > maxRows)
            return TypedResults.Problem(title: "Too many rows", statusCode: StatusCodes.Status413PayloadTooLarge,
                detail: $"The upload has {parser.RowCount} rows; the limit is {maxRows}.");
        parser.Finish(partial);
        if (parser.Errors.Any)
            return parser.Errors.ToProblem("Invalid predictions (nothing was changed)");

        var rows = parser.Rows;
        var parsed = elapsed.Elapsed.TotalMilliseconds;
        // Beside the commit: which of the new top-1 pairs verdicts have decided already (from the side pool: an upload
        // holding a connection of the default pool never waits for another one of it).
        var decided = PredictionStore.DecidedPairsAsync(side, target.LabelSpaceId!.Value,
            rows.Select(r => r.ImageId).ToArray(), context.RequestAborted);
        if (writer is null) return await DryRunAnswerAsync(db, slug, dataset, target, targets, parser, partial, await decided, elapsed);
        PredictionUploadOutcome outcome;
        try { outcome = await writer.CommitAsync(parser.K, rows, elapsed); }
        catch (ImagesChangedException e) { return Problems.Conflict("The dataset's images changed", e.Message); }
        if (outcome.Outcome == PredictionWriter.Applied) followups.Notify(outcome.UploadId, datasetId);
        var pending = PredictionStore.CountPending(rows, await decided);
        loggers.CreateLogger(typeof(PredictionsApi)).LogInformation(
            "Upload {UploadId} ({Outcome}) of {Rows} rows to {Model} on {Dataset}: body received in {ReceivedMs:F0} ms, parsed in {ReadMs:F0} ms, done in {ElapsedMs:F0} ms",
            outcome.UploadId, outcome.Outcome, rows.Count, slug, dataset, receivedMs, parsed, elapsed.Elapsed.TotalMilliseconds);
        return TypedResults.Ok(new UploadPredictionsResponse(
            outcome.UploadId, outcome.Outcome, slug, dataset, rows.Count, rows.Sum(r => r.Labels.Length), parser.K, partial,
            targets.ImageCount, (double)rows.Count / targets.ImageCount, pending, outcome.Checksum,
            elapsed.Elapsed.TotalMilliseconds));
    }

    /// <summary>What a checked body would do: replace the current set, or leave it unchanged (the same content).</summary>
    private static async Task<Ok<UploadPredictionsResponse>> DryRunAnswerAsync(
        NpgsqlDataSource db, string slug, string dataset, Target target, PredictionTargets targets, PredictionParser parser, bool partial,
        HashSet<long> decided, Stopwatch elapsed)
    {
        var rows = parser.Rows;
        rows.Sort((a, b) => a.ImageId.CompareTo(b.ImageId));
        var checksum = PredictionStore.Checksum(rows);
        string? current;
        await using (var connection = await db.OpenConnectionAsync())
            current = await connection.QuerySingleOrDefaultAsync<string>(
                "select checksum from prediction_sets where model_id = @ModelId and dataset_id = @DatasetId", new { target.ModelId, target.DatasetId });
        var outcome = current == checksum ? PredictionWriter.Unchanged : PredictionWriter.Applied;
        return TypedResults.Ok(new UploadPredictionsResponse(
            0, outcome, slug, dataset, rows.Count, rows.Sum(r => r.Labels.Length), parser.K, partial, targets.ImageCount,
            (double)rows.Count / targets.ImageCount, PredictionStore.CountPending(rows, decided), checksum, elapsed.Elapsed.TotalMilliseconds, DryRun: true));
    }

    /// <param name="k">How many label columns (1-5, default 5).</param>
    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Template(string dataset, NpgsqlDataSource db, int k = PredictionParser.MaxK)
    {
        if (k is < 1 or > PredictionParser.MaxK) return Problems.Unprocessable("Invalid k", "k", $"1 to {PredictionParser.MaxK} label columns.");
        long? datasetId;
        await using (var connection = await db.OpenConnectionAsync())
            datasetId = await connection.ExecuteScalarAsync<long?>("select id from datasets where slug = @dataset", new { dataset });
        if (datasetId is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        return TypedResults.Stream(async stream =>
        {
            await using var connection = await db.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("select file_name from images where dataset_id = @datasetId order by id", connection);
            command.Parameters.AddWithValue("datasetId", datasetId.Value);
            await using var reader = await command.ExecuteReaderAsync();
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 64 * 1024);
            var empty = new string(',', k);
            await writer.WriteAsync("image" + string.Concat(Enumerable.Range(1, k).Select(j => $",label{j}")) + "\n");
            while (await reader.ReadAsync()) await writer.WriteAsync(CsvField(reader.GetString(0)) + empty + "\n");
        }, Csv + "; charset=utf-8", $"{dataset}.template.csv");
    }

    private static string? FormatOf(string? contentType)
    {
        var type = contentType?.Split(';')[0].Trim().ToLowerInvariant();
        return type switch
        {
            "application/json" => "json",
            "text/csv" => "csv",
            "application/x-ndjson" or "application/ndjson" or "application/jsonl" or "application/x-jsonlines" => "ndjson",
            _ => null,
        };
    }

    private sealed record CurrentSet(long UploadId, int K, bool HasScores);

    /// <param name="format">json (default) or csv.</param>
    /// <param name="labels">wnid (default) or index.</param>
    public static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Download(
        string slug, string dataset, NpgsqlDataSource db, string? format = null, string? labels = null)
    {
        var csv = format?.ToLowerInvariant() switch
        {
            null or "json" => false,
            "csv" => true,
            _ => (bool?)null,
        };
        if (csv is null) return Problems.Unprocessable("Invalid format", "format", "format must be 'json' or 'csv'.");
        var indices = labels?.ToLowerInvariant() switch
        {
            null or "wnid" => false,
            "index" => true,
            _ => (bool?)null,
        };
        if (indices is null) return Problems.Unprocessable("Invalid labels", "labels", "labels must be 'wnid' or 'index'.");

        // One snapshot for the pointer and the rows: a replace committed meanwhile is not seen half.
        var connection = await db.OpenConnectionAsync();
        NpgsqlTransaction? transaction = null;
        CurrentSet? set;
        string[] wnids;
        try
        {
            transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead);
            var (target, problem) = await FindAsync(connection, slug, dataset);
            if (problem is not null)
            {
                await connection.DisposeAsync();
                return problem;
            }
            set = await connection.QuerySingleOrDefaultAsync<CurrentSet>(
                """
                select s.upload_id, s.k::int as k,
                       exists (select 1 from prediction_blocks b where b.upload_id = s.upload_id and b.scores is not null) as has_scores
                from prediction_sets s where s.model_id = @ModelId and s.dataset_id = @DatasetId
                """,
                new { target!.ModelId, target.DatasetId }, transaction);
            if (set is null)
            {
                await connection.DisposeAsync();
                return Problems.NotFound($"Model '{slug}' has no predictions on '{dataset}'.");
            }
            wnids = (await connection.QueryAsync<string>(
                "select wnid from label_space_classes where label_space_id = @LabelSpaceId order by class_index",
                new { target.LabelSpaceId }, transaction)).ToArray();
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        return TypedResults.Stream(async stream =>
        {
            await using var _ = connection;
            await using var __ = transaction;
            await using var command = new NpgsqlCommand(
                """
                select i.file_name, p.labels, p.scores
                from predictions p join images i on i.id = p.image_id
                where p.upload_id = @uploadId
                order by p.image_id
                """,
                connection, transaction);
            command.Parameters.AddWithValue("uploadId", set.UploadId);
            await using var reader = await command.ExecuteReaderAsync();
            if (csv.Value) await WriteCsvAsync(stream, reader, set, wnids, indices.Value);
            else await WriteJsonAsync(stream, reader, wnids, indices.Value);
        }, csv.Value ? Csv + "; charset=utf-8" : Json, $"{slug}.{dataset}.{(csv.Value ? "csv" : "json")}");
    }

    private static async Task WriteJsonAsync(Stream stream, NpgsqlDataReader reader, string[] wnids, bool indices)
    {
        await using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        json.WriteStartArray("predictions");
        while (await reader.ReadAsync())
        {
            json.WriteStartObject();
            json.WriteString("image", reader.GetString(0));
            json.WriteStartArray("labels");
            foreach (var label in reader.GetFieldValue<short[]>(1))
                if (indices) json.WriteNumberValue(label); else json.WriteStringValue(wnids[label]);
            json.WriteEndArray();
            if (!reader.IsDBNull(2))
            {
                json.WriteStartArray("scores");
                foreach (var score in reader.GetFieldValue<float[]>(2)) json.WriteNumberValue(score);
                json.WriteEndArray();
            }
            json.WriteEndObject();
            if (json.BytesPending > 32 * 1024) await json.FlushAsync();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync();
    }

    private static async Task WriteCsvAsync(Stream stream, NpgsqlDataReader reader, CurrentSet set, string[] wnids, bool indices)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 64 * 1024);
        var header = new StringBuilder("image");
        for (var j = 1; j <= set.K; j++) header.Append(",label").Append(j);
        if (set.HasScores) for (var j = 1; j <= set.K; j++) header.Append(",score").Append(j);
        await writer.WriteAsync(header.Append('\n'));
        var line = new StringBuilder();
        while (await reader.ReadAsync())
        {
            line.Clear();
            line.Append(CsvField(reader.GetString(0)));
            // A row may have fewer labels than the header's k: its trailing cells stay empty.
            var labels = reader.GetFieldValue<short[]>(1);
            for (var j = 0; j < set.K; j++)
                line.Append(',').Append(j >= labels.Length ? "" : indices ? labels[j].ToString(CultureInfo.InvariantCulture) : wnids[labels[j]]);
            if (set.HasScores)
            {
                var scores = reader.IsDBNull(2) ? null : reader.GetFieldValue<float[]>(2);
                for (var j = 0; j < set.K; j++)
                    line.Append(',').Append(scores is null || j >= scores.Length ? "" : scores[j].ToString("R", CultureInfo.InvariantCulture));
            }
            await writer.WriteAsync(line.Append('\n'));
        }
    }

    private static string CsvField(string text) =>
        text.AsSpan().ContainsAny(",\"\r\n") ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string slug, string dataset, ClaimsPrincipal user, NpgsqlDataSource db, PredictionsCache cache)
    {
        await using var connection = await db.OpenConnectionAsync();
        var (target, problem) = await FindAsync(connection, slug, dataset);
        if (problem is not null) return problem;
        if (!MayWrite(user, slug, target!)) return ModelsApi.Forbidden(slug);
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(
            "select pg_advisory_xact_lock(hashtextextended('prediction_sets:' || @ModelId || ':' || @DatasetId, 0))",
            new { target!.ModelId, target.DatasetId }, transaction);
        var previous = await connection.ExecuteScalarAsync<long?>(
            "delete from prediction_sets where model_id = @ModelId and dataset_id = @DatasetId returning upload_id",
            new { target.ModelId, target.DatasetId }, transaction);
        if (previous is null) return Problems.NotFound($"Model '{slug}' has no predictions on '{dataset}'.");
        await connection.ExecuteAsync("delete from prediction_blocks where upload_id = @previous", new { previous }, transaction);
        await transaction.CommitAsync();
        cache.EvictUpload(previous.Value);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<PredictionSetResponse[]>, ProblemHttpResult>> Sets(string slug, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var modelId = await connection.ExecuteScalarAsync<long?>("select id from models where slug = @slug", new { slug });
        if (modelId is null) return Problems.NotFound($"Model '{slug}' does not exist.");
        var rows = await connection.QueryAsync<PredictionSetResponse>(
            """
            select d.slug as dataset, s.upload_id, s.k::int as k, s.rows, n.images as dataset_images,
                   case when n.images = 0 then 0 else s.rows::float8 / n.images end as coverage, s.checksum, s.updated_at
            from prediction_sets s
            join datasets d on d.id = s.dataset_id
            cross join lateral (select count(*) as images from images i where i.dataset_id = d.id) n
            where s.model_id = @modelId
            order by d.slug
            """,
            new { modelId });
        return TypedResults.Ok(rows.ToArray());
    }

    public static async Task<Results<Ok<PredictionUploadResponse[]>, ProblemHttpResult>> Uploads(string slug, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var modelId = await connection.ExecuteScalarAsync<long?>("select id from models where slug = @slug", new { slug });
        if (modelId is null) return Problems.NotFound($"Model '{slug}' does not exist.");
        var rows = await connection.QueryAsync<PredictionUploadResponse>(
            """
            select u.id, d.slug as dataset, b.name as uploaded_by, u.created_at, u.format, u.rows, u.k::int as k, u.partial,
                   u.checksum, u.outcome, u.elapsed_ms,
                   exists (select 1 from prediction_sets s where s.upload_id = u.id) as current
            from prediction_uploads u
            join datasets d on d.id = u.dataset_id
            join users b on b.id = u.uploaded_by
            where u.model_id = @modelId
            order by u.id desc
            limit 1000
            """,
            new { modelId });
        return TypedResults.Ok(rows.ToArray());
    }
}
