using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Review;
using Relabel.Api.Features.Datasets;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Interop;

/// <summary>Imports and exports of the published formats. Imports validate everything first, then write in a background job.</summary>
public static class InteropApi
{
    public static void MapInterop(this IEndpointRouteBuilder routes)
    {
        // Imports (admins) check the whole body first and answer 422 with lines, nothing written; then a job writes it
        // through the label state in one transaction. Exports stream the current state in the published formats.
        var group = routes.MapGroup("/api/datasets/{slug}").WithTags("Interop").WithValidation().AfterPredictionFollowups();
        group.MapPost("/import/multilabel", ImportMultilabel).WithName("ImportMultilabel").RequireAuthorization(Policies.Admin)
            .RawBody("The ICML 2020 multi-label release: {initial_annots, problematic_images, imagenet_m}.", "application/json")
            .WithSummary("Import a multi-label release as verdict events of an import source (provenance kept), problematic flags and the imagenet-m image set. Validated first; written by a job.");
        group.MapGet("/export/multilabel", ExportMultilabel).WithName("ExportMultilabel")
            .Produces(200, contentType: "application/json")
            .WithSummary("The dataset's decided labels in the ICML 2020 multi-label format.");
        group.MapGet("/export/real", ExportReal).WithName("ExportReal")
            .Produces<int[][]>(200, "application/json")
            .WithSummary("The dataset's reference multi-labels in the ReaL format: a list, in sorted file-name order, of lists of class indices (empty: excluded).");
        group.MapPost("/import/rater-votes", ImportRaterVotes).WithName("ImportRaterVotes").RequireAuthorization(Policies.Admin)
            .RawBody("CSV 'file_name,wnid,rater,answer' with answer no|maybe|yes; Content-Encoding: gzip accepted.", "text/csv")
            .WithSummary("Import crowd-rater votes as verdict events of external raters (yes = correct, no = wrong, maybe = unclear), decided by the majority rule (a dataset deciding by 'latest' is switched to it; one deciding by agreement needs rule=majority to switch or rule=keep to keep its rule); golden=true imports expert answers and marks control questions.");
    }

    internal static async Task<Dictionary<string, long>> ImageIdsAsync(NpgsqlConnection connection, long datasetId) =>
        (await connection.QueryAsync<(string FileName, long Id)>(
            "select file_name, id from images where dataset_id = @datasetId", new { datasetId }))
        .ToDictionary(r => r.FileName, r => r.Id, StringComparer.Ordinal);

    internal static async Task<HashSet<string>> ClassesAsync(NpgsqlConnection connection, long labelSpaceId) =>
        (await connection.QueryAsync<string>(
            "select wnid from label_space_classes where label_space_id = @labelSpaceId", new { labelSpaceId })).ToHashSet();

    private static ProblemHttpResult? RequireContentType(HttpRequest request, params string[] types) =>
        types.Any(t => request.ContentType?.StartsWith(t, StringComparison.OrdinalIgnoreCase) == true) ? null
        : TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: $"Send {string.Join(" or ", types)}.");

    public static async Task<Results<Accepted<JobAccepted>, Ok<ImportUnchanged>, ProblemHttpResult>> ImportMultilabel(
        string slug, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs, IOptions<RelabelOptions> options,
        string source = "icml2020")
    {
        if (RequireContentType(context.Request, "application/json") is { } wrongType) return wrongType;
        if (RequestLimits.Apply(context, options.Value.MaxImportBytes) is { } tooLarge) return tooLarge;
        if (source.Length is 0 or > 100) return Problems.Unprocessable("Invalid source", "source", "source: 1 to 100 characters naming where the labels come from.");
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");

        var errors = new LineErrors();
        await using var body = BoundedStream.RequestBody(context.Request, options.Value.MaxImportBytes);
        var release = await MultilabelRelease.ReadAsync(body, errors, context.RequestAborted);
        if (release is null) return errors.ToProblem("Invalid multi-label release (nothing was imported)");

        var images = await ImageIdsAsync(connection, dataset.Id);
        var classes = await ClassesAsync(connection, dataset.LabelSpaceId);
        foreach (var (file, a) in release.Annotations)
        {
            if (!images.ContainsKey(file)) errors.Add(0, $"initial_annots[\"{file}\"]", $"'{file}' is not an image of {slug}.");
            foreach (var wnid in a.Correct.Concat(a.Wrong).Concat(a.Unclear).Where(w => !classes.Contains(w)))
                errors.Add(0, $"initial_annots[\"{file}\"]", $"'{wnid}' is not a class of {slug}.");
        }
        foreach (var file in release.Problematic.Keys.Concat(release.ImagenetM).Where(f => !images.ContainsKey(f)).Distinct())
            errors.Add(0, file, $"'{file}' is not an image of {slug}.");
        if (errors.Any) return errors.ToProblem("Invalid multi-label release (nothing was imported)");

        using var canonical = new MemoryStream();
        await release.WriteAsync(canonical, context.RequestAborted);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(canonical.ToArray()));
        if (await AlreadyImportedAsync(connection, dataset.Id, "multilabel:" + source, checksum))
            return TypedResults.Ok(new ImportUnchanged("unchanged", "This release was already imported from this source; nothing was written."));

        var total = release.Annotations.Sum(a => a.Value.Correct.Length + a.Value.Wrong.Length + a.Value.Unclear.Length) + release.Problematic.Count;
        var jobId = await jobs.EnqueueAsync("import-multilabel", dataset.Id, user.UserId(), total,
            job => WriteMultilabelAsync(job, dataset, source, checksum, release, images));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, "queued", $"/api/jobs/{jobId}"));
    }

    private static async Task<bool> AlreadyImportedAsync(NpgsqlConnection connection, long datasetId, string kind, string checksum) =>
        await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from imports where dataset_id = @datasetId and kind = @kind and checksum = @checksum)",
            new { datasetId, kind, checksum });

    private static async Task<object> WriteMultilabelAsync(
        JobContext job, LabelHead dataset, string source, string checksum, MultilabelRelease release, Dictionary<string, long> images)
    {
        await using var connection = await job.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var head = await DatasetHeads.LockAsync(connection, transaction, dataset.Id, HeadLock.Update);
        var sourceId = await LabelImport.SourceAsync(connection, transaction, "import:" + source, "import",
            $"Imported multi-label release '{source}'.");
        var judged = release.Annotations.SelectMany(a =>
                a.Value.Correct.Select(w => (a.Key, w, Verdicts.Correct))
                    .Concat(a.Value.Wrong.Select(w => (a.Key, w, Verdicts.Wrong)))
                    .Concat(a.Value.Unclear.Select(w => (a.Key, w, Verdicts.Unclear))))
            .Select(j => (ImageId: images[j.Key], Wnid: j.w, Verdict: j.Item3))
            .ToList();
        var items = await LabelImport.EnsureItemsAsync(connection, transaction, judged.Select(j => (j.ImageId, j.Wnid)), control: false, CancellationToken.None);
        await job.ReportAsync(0, judged.Count, "writing verdict events", force: true);

        var verdicts = judged.Select(j => new NewVerdict(items[(j.ImageId, j.Wnid)], j.Verdict, "", false)).ToList();
        var flags = release.Problematic.Select(p => new NewFlag(images[p.Key], true, MultilabelRelease.ReasonOf(p.Value.Reason),
            JsonSerializer.Serialize(p.Value.Attributes))).ToList();
        var outcome = await LabelWriter.AppendAsync(connection, transaction, dataset.Id, head?.ConsensusRule ?? Consensus.Latest,
            LabelAuthor.Source(sourceId), verdicts, flags);

        if (release.ImagenetM.Count > 0)
            await connection.ExecuteAsync(
                """
                with set as (
                    insert into image_sets (dataset_id, name, description, source) values (@datasetId, 'imagenet-m', 'ImageNet-M: the images in the multi-label release''s imagenet_m list.', 'import')
                    on conflict (dataset_id, name) do update set description = excluded.description, revision = image_sets.revision + 1
                    returning id
                )
                insert into image_set_members (image_set_id, image_id)
                select set.id, unnest(@imageIds) from set
                on conflict do nothing
                """,
                new { datasetId = dataset.Id, imageIds = release.ImagenetM.Select(f => images[f]).Distinct().ToArray() }, transaction);
        // The images the release covers are its evaluation scope (the paper grades on the annotated images only).
        var annotated = release.Annotations.Keys.Concat(release.Problematic.Keys).Select(f => images[f]).Distinct().ToArray();
        await ImageSetsApi.ReplaceAsync(connection, transaction, dataset.Id, ImageSetsApi.Annotated,
            $"The images the multi-label release '{source}' annotates (its evaluation scope).", "import", annotated);
        await connection.ExecuteAsync(
            "insert into imports (dataset_id, kind, checksum, job_id) values (@datasetId, @kind, @checksum, @jobId) on conflict do nothing",
            new { datasetId = dataset.Id, kind = "multilabel:" + source, checksum, jobId = job.Id }, transaction);
        await transaction.CommitAsync();
        var labelVersion = await LabelWriter.CommittedLabelVersionAsync(connection, dataset.Id, outcome);
        return new { events = outcome.Events, changedItems = outcome.ChangedItems, changedFlags = outcome.ChangedFlags, labelVersion, imagenetM = release.ImagenetM.Count, annotated = annotated.Length };
    }

    private sealed record FlagRow(string FileName, string? Reason, string Note, long? ReviewerId, string? Author, DateTime CreatedAt);

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExportMultilabel(
        string slug, HttpContext context, NpgsqlDataSource db, Pseudonyms pseudonyms)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        // Anonymous readers see reviewers by pseudonym; imported flags keep their source's attributes.
        var reviewerName = await pseudonyms.ForReaderAsync(context.User, dataset.Id);
        var decided = await connection.QueryAsync<(string FileName, string Wnid, string State)>(
            """
            select i.file_name, r.wnid, r.state
            from review_items r join images i on i.id = r.image_id
            where i.dataset_id = @Id and r.state in ('correct', 'wrong', 'unclear')
            """,
            new { dataset.Id });
        var annotations = decided.GroupBy(d => d.FileName).ToDictionary(g => g.Key, g => new MultilabelAnnotation(
            g.Where(d => d.State == "correct").Select(d => d.Wnid).ToArray(),
            g.Where(d => d.State == "wrong").Select(d => d.Wnid).ToArray(),
            g.Where(d => d.State == "unclear").Select(d => d.Wnid).ToArray()));
        // The latest flag event of each problematic image: imported ones keep their original attributes.
        var flags = await connection.QueryAsync<FlagRow>(
            """
            select distinct on (i.id) i.file_name, f.reason, f.note, f.reviewer_id, coalesce(u.name, s.name) as author, f.created_at
            from image_states st
            join images i on i.id = st.image_id
            join image_flag_events f on f.image_id = i.id
            left join users u on u.id = f.reviewer_id
            left join verdict_sources s on s.id = f.source_id
            where i.dataset_id = @Id and st.problematic
            order by i.id, f.id desc
            """,
            new { dataset.Id });
        var problematic = new Dictionary<string, ProblematicImage>();
        foreach (var f in flags)
        {
            Dictionary<string, string>? attributes = null;
            if (f.Note.StartsWith('{'))
                try { attributes = JsonSerializer.Deserialize<Dictionary<string, string>>(f.Note); }
                catch (JsonException) { }
            attributes ??= new Dictionary<string, string>
            {
                ["reason"] = f.Reason ?? "other",
                ["reviewer"] = f.ReviewerId is { } reviewer ? reviewerName(reviewer, f.Author ?? "") : f.Author ?? "",
                ["time_marked"] = f.CreatedAt.ToString("O"),
            };
            problematic[f.FileName] = new ProblematicImage(attributes.GetValueOrDefault("reason") ?? f.Reason ?? "other", attributes);
        }
        var imagenetM = (await connection.QueryAsync<string>(
            """
            select i.file_name from image_sets s join image_set_members m on m.image_set_id = s.id join images i on i.id = m.image_id
            where s.dataset_id = @Id and s.name = 'imagenet-m'
            """,
            new { dataset.Id })).ToList();

        context.Response.ContentType = "application/json";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{slug}-multilabel.json\"";
        await new MultilabelRelease(annotations, problematic, imagenetM).WriteAsync(context.Response.Body, context.RequestAborted);
        return TypedResults.Empty;
    }

    public static async Task<Results<Ok<short[][]>, ProblemHttpResult>> ExportReal(string slug, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await DatasetHeads.LabelHeadAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        if (!await connection.ExecuteScalarAsync<bool>("select exists (select 1 from reference_label_sets where dataset_id = @Id)", new { dataset.Id }))
            return Problems.NotFound($"Dataset '{slug}' has no reference labels: PUT /api/datasets/{slug}/reference-labels.");
        var lists = new List<short[]>();
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"""
             copy (
                 select coalesce(r.class_indices, array[]::smallint[]) from images i
                 left join dataset_reference_labels r on r.dataset_id = i.dataset_id and r.image_id = i.id
                 where i.dataset_id = {dataset.Id}
                 order by i.file_name collate "C"
             ) to stdout (format binary)
             """))
            while (await reader.StartRowAsync() != -1)
                lists.Add(await reader.ReadAsync<short[]>(NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Smallint));
        return TypedResults.Ok(lists.ToArray());
    }

    public static Task<Results<Accepted<JobAccepted>, Ok<ImportUnchanged>, ProblemHttpResult>> ImportRaterVotes(
        string slug, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs, IOptions<RelabelOptions> options,
        bool golden = false, string? rule = null) =>
        RaterVotesImporter.ImportAsync(slug, context, user, db, jobs, options.Value, golden, rule);
}
