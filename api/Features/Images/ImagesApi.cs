using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Images;

public sealed record ImageResponse(
    long Id,
    string Dataset,
    string FileName,
    string OriginalWnid,
    string OriginalLemma,
    bool HasFile,
    string? MediaType,
    int? Width,
    int? Height,
    long? ByteSize,
    string? Sha256);

public sealed record ImagePage(IReadOnlyList<ImageResponse> Items, string? NextCursor);

public sealed record ImageUploadResponse(int Created, int Updated, IReadOnlyList<ImageResponse> Images);

public sealed record ManifestResponse(long Rows, long Inserted, long Updated, long Unchanged, double ElapsedMs);

public static class ImagesApi
{
    public static RouteGroupBuilder MapImages(this IEndpointRouteBuilder routes)
    {
        var datasets = routes.MapGroup("/api/datasets/{slug}/images").WithTags("Images").WithValidation();
        datasets.MapPost("/", Upload).WithName("UploadImages").RequireAuthorization(Policies.Admin).DisableAntiforgery()
            .RawBody("Parts 'files' (the images) and fields 'label' (wnid or class index).", "multipart/form-data")
            .WithSummary("Upload JPEG, PNG or WebP files (parts named 'files') with their labels (fields named 'label', one per file in order, or one for all).");
        datasets.MapPost("/manifest", Manifest).WithName("RegisterImageManifest").RequireAuthorization(Policies.Admin)
            .RawBody("CSV lines 'file_name,label' (an optional header line is skipped).", "text/csv")
            .WithSummary("Register images without bytes from CSV 'file_name,label' (label: wnid or class index). All or nothing; re-running is a no-op.");

        var images = routes.MapGroup("/api/images").WithTags("Images").WithValidation();
        images.MapGet("/", List).WithName("ListImages").WithSummary("Images of a dataset, by class or subset, in id order with keyset pagination.");
        images.MapGet("/{id:long}", Get).WithName("GetImage").WithSummary("One image record.");
        images.MapGet("/{id:long}/file", File).WithName("GetImageFile")
            .Produces(200, contentType: "image/jpeg").Produces(304)
            .WithSummary("The image bytes with ETag (304 on If-None-Match). Signed-in users only unless images are public.");
        return images;
    }

    internal const string ImageSelect =
        """
        select i.id, d.slug as dataset, i.file_name, i.original_wnid, s.lemmas[1] as original_lemma,
               i.sha256 is not null as has_file, i.media_type, i.width, i.height, i.byte_size, i.sha256
        from images i
        join datasets d on d.id = i.dataset_id
        join synsets s on s.wnid = i.original_wnid
        """;

    /// <param name="dataset">Dataset slug (required).</param>
    /// <param name="wnid">Only images whose original label is this class.</param>
    /// <param name="subset">Only images whose original label is in this subset.</param>
    /// <param name="cursor">The nextCursor of the previous page.</param>
    /// <param name="limit">Page size, 1-500 (default 100).</param>
    public static async Task<Results<Ok<ImagePage>, ProblemHttpResult>> List(
        NpgsqlDataSource db, string dataset, string? wnid = null, string? subset = null, string? cursor = null, int limit = 100)
    {
        if (limit is < 1 or > 500) return Problems.Unprocessable("Invalid limit", "limit", "limit must be between 1 and 500.");
        long after = 0;
        if (cursor is not null && !long.TryParse(cursor, out after))
            return Problems.Unprocessable("Invalid cursor", "cursor", "cursor must be the nextCursor of a previous page.");
        await using var connection = await db.OpenConnectionAsync();
        var ids = await connection.QuerySingleOrDefaultAsync<(long DatasetId, long? SubsetId)?>(
            """
            select d.id, s.id from datasets d
            left join subsets s on s.dataset_id = d.id and s.name = @subset
            where d.slug = @dataset
            """,
            new { dataset, subset });
        if (ids is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        if (subset is not null && ids.Value.SubsetId is null) return Problems.NotFound($"Dataset '{dataset}' has no subset '{subset}'.");

        var rows = (await connection.QueryAsync<ImageResponse>(
            ImageSelect +
            """

            where i.dataset_id = @datasetId and i.id > @after
              and (@wnid::text is null or i.original_wnid = @wnid)
              and (@subsetId::bigint is null or i.original_wnid in (select wnid from subset_wnids(@subsetId)))
            order by i.id
            limit @take
            """,
            new { datasetId = ids.Value.DatasetId, after, wnid, subsetId = ids.Value.SubsetId, take = limit + 1 })).ToList();
        var next = rows.Count > limit ? rows[limit - 1].Id.ToString() : null;
        return TypedResults.Ok(new ImagePage(rows.Take(limit).ToList(), next));
    }

    public static async Task<Results<Ok<ImageResponse>, ProblemHttpResult>> Get(NpgsqlDataSource db, long id)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ImageResponse>(ImageSelect + " where i.id = @id", new { id });
        return row is null ? Problems.NotFound($"Image {id} does not exist.") : TypedResults.Ok(row);
    }

    private sealed record FileRow(string? Sha256, string? MediaType, bool ImagesPublic);

    public static async Task<Results<PhysicalFileHttpResult, StatusCodeHttpResult, ProblemHttpResult>> File(
        long id, HttpContext context, NpgsqlDataSource db, ImageStore store, IOptions<RelabelOptions> options)
    {
        await using var connection = await db.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<FileRow>(
            "select i.sha256, i.media_type, d.images_public from images i join datasets d on d.id = i.dataset_id where i.id = @id",
            new { id });
        if (row is null) return Problems.NotFound($"Image {id} does not exist.");
        if (!row.ImagesPublic && !options.Value.ImagesPublic && context.User.Identity?.IsAuthenticated != true)
            return TypedResults.Problem(title: "Sign in to see images", statusCode: 401,
                detail: "ImageNet's terms: images are shown to signed-in users only.");
        if (row.Sha256 is null) return Problems.NotFound($"Image {id} is registered without bytes.");

        var headers = context.Response.Headers;
        headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
        headers[HeaderNames.XContentTypeOptions] = "nosniff";
        headers[HeaderNames.CacheControl] = "private, max-age=86400";
        var etag = new EntityTagHeaderValue($"\"{row.Sha256}\"");
        headers[HeaderNames.ETag] = etag.ToString();
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(t => t.Compare(etag, useStrongComparison: false) || t.Equals(EntityTagHeaderValue.Any)))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        var path = store.PathOf(row.Sha256);
        if (!System.IO.File.Exists(path)) return Problems.NotFound($"The bytes of image {id} are missing from the image store.");
        return TypedResults.PhysicalFile(path, row.MediaType!);
    }

    public static async Task<Results<Created<ImageUploadResponse>, ProblemHttpResult>> Upload(
        string slug, HttpRequest request, NpgsqlDataSource db, ImageStore store, IOptions<RelabelOptions> options)
    {
        if (!request.HasFormContentType)
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: "Send multipart/form-data.");
        var form = await request.ReadFormAsync();
        var files = form.Files.GetFiles("files");
        var labels = form["label"];
        var errors = new LineErrors();
        if (files.Count == 0) errors.Add(0, "files", "No file parts named 'files'.");
        if (labels.Count != 1 && labels.Count != files.Count)
            errors.Add(0, "label", $"Give one 'label' for all files or one per file ({files.Count}); got {labels.Count}.");
        if (errors.Any) return errors.ToProblem("Invalid image upload");

        await using var connection = await db.OpenConnectionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug", new { slug });
        if (dataset is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var labelResolver = await LabelResolver.LoadAsync(connection, dataset.Value.LabelSpaceId);

        var accepted = new List<(string FileName, string Wnid, byte[] Bytes, SniffedImage Image)>();
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            var label = labels.Count == 1 ? labels[0]! : labels[i]!;
            var name = Path.GetFileName(file.FileName);
            if (string.IsNullOrWhiteSpace(name) || name.Length > 255) { errors.Add(i + 1, "files", "Missing or over-long file name."); continue; }
            if (file.Length > options.Value.MaxImageBytes)
            {
                errors.Add(i + 1, name, $"{file.Length} bytes; the limit is {options.Value.MaxImageBytes}.");
                continue;
            }
            if (labelResolver.Resolve(label) is not { } wnid)
            {
                errors.Add(i + 1, name, $"Label '{label}' is neither a class index nor a wnid of this dataset.");
                continue;
            }
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer);
            var bytes = buffer.ToArray();
            if (ImageSniffer.Sniff(bytes) is not { } image)
            {
                errors.Add(i + 1, name, "Not a JPEG, PNG or WebP image (checked by content; SVG is refused).");
                continue;
            }
            accepted.Add((name, wnid, bytes, image));
        }
        if (accepted.Select(a => a.FileName).Distinct().Count() != accepted.Count)
            errors.Add(0, "files", "The same file name appears twice in one upload.");
        if (errors.Any) return errors.ToProblem("Invalid image upload");

        // The files are written inside the transaction that names them; if it fails, the files it wrote that nothing else
        // names are removed again (see ImageStore.LockSharedAsync).
        var written = new List<string>();
        int created = 0, updated = 0;
        var ids = new List<long>();
        try
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await ImageStore.LockSharedAsync(connection, transaction, accepted.Select(a => ImageStore.Sha256(a.Bytes)));
            var stored = new List<(string FileName, string Wnid, StoredImage Stored)>();
            foreach (var a in accepted)
                stored.Add((a.FileName, a.Wnid, await store.SaveAsync(a.Bytes, a.Image.MediaType, a.Image.Width, a.Image.Height, written)));
            (created, updated) = await InsertAsync(connection, transaction, dataset.Value.Id, stored, ids);
            await transaction.CommitAsync();
        }
        catch
        {
            await store.RemoveUnreferencedAsync(db, written);
            throw;
        }
        var rows = await connection.QueryAsync<ImageResponse>(ImageSelect + " where i.id = any(@ids) order by i.id", new { ids });
        return TypedResults.Created($"/api/images?dataset={slug}", new ImageUploadResponse(created, updated, rows.ToList()));
    }

    /// <summary>Upserts the images by file name; returns how many were created and updated, their ids in <paramref name="ids"/>.</summary>
    private static async Task<(int Created, int Updated)> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId,
        List<(string FileName, string Wnid, StoredImage Stored)> stored, List<long> ids)
    {
        int created = 0, updated = 0;
        foreach (var (fileName, wnid, s) in stored)
        {
            var (id, inserted) = await connection.QuerySingleAsync<(long, bool)>(
                """
                insert into images (dataset_id, file_name, original_wnid, sha256, byte_size, width, height, media_type)
                values (@datasetId, @fileName, @wnid, @Sha256, @ByteSize, @Width, @Height, @MediaType)
                on conflict (dataset_id, file_name) do update
                set original_wnid = excluded.original_wnid, sha256 = excluded.sha256, byte_size = excluded.byte_size,
                    width = excluded.width, height = excluded.height, media_type = excluded.media_type
                returning id, (xmax = 0) as inserted
                """,
                new { datasetId, fileName, wnid, s.Sha256, s.ByteSize, s.Width, s.Height, s.MediaType },
                transaction);
            ids.Add(id);
            if (inserted) created++; else updated++;
        }
        return (created, updated);
    }

    public static async Task<Results<Ok<ManifestResponse>, ProblemHttpResult>> Manifest(
        string slug, HttpContext context, NpgsqlDataSource db, IOptions<RelabelOptions> options)
    {
        var request = context.Request;
        if (request.ContentType is not { } type || !(type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) || type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase)))
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: "Send text/csv with lines 'file_name,label'.");
        if (RequestLimits.Apply(context, options.Value.MaxManifestBytes) is { } tooLarge) return tooLarge;

        var started = System.Diagnostics.Stopwatch.StartNew();
        // Received whole first: the rows are copied inside a transaction, which must not wait for a slow sender.
        var body = new LineLengthLimitedStream(
            await RequestLimits.ReceiveAsync(request, options.Value.MaxManifestBytes, context.RequestAborted), options.Value.MaxLineBytes);
        await using var connection = await db.OpenConnectionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug", new { slug });
        if (dataset is null) return Problems.NotFound($"Dataset '{slug}' does not exist.");

        await using var transaction = await connection.BeginTransactionAsync();
        ManifestResult result;
        try { result = await ManifestImporter.ImportAsync(connection, transaction, dataset.Value.Id, dataset.Value.LabelSpaceId, body, context.RequestAborted); }
        catch (LineTooLongException e)
        {
            var errors = new LineErrors();
            errors.Add(e.Line, "line", $"Line {e.Line} is longer than {e.Limit} bytes (Relabel:MaxLineBytes).");
            return errors.ToProblem("Invalid image manifest (nothing was registered)");
        }
        if (result.Errors.Any) return result.Errors.ToProblem("Invalid image manifest (nothing was registered)");
        await transaction.CommitAsync();
        return TypedResults.Ok(new ManifestResponse(result.Rows, result.Inserted, result.Updated, result.Rows - result.Inserted - result.Updated, started.Elapsed.TotalMilliseconds));
    }
}
