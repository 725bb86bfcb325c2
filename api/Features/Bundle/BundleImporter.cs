using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Claims;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Features.Datasets;
using Relabel.Api.Features.Images;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Bundle;

/// <summary>
/// Imports a portable bundle (<see cref="BundleFormat"/>). The request reads and checks everything (the manifest's
/// checksums, every line, and the bundle against this database: known wnids, existing datasets with the same classes
/// and rule, existing images with the same labels); any fault is a 422 listing files and lines, and nothing is
/// written. A background job then writes everything in one transaction.
/// <para>
/// What exists already is matched, not duplicated: accounts and sources by name (accounts are created without
/// credentials or roles), datasets, models, subsets and image sets by name, images by file name, events by their
/// content (item, author, value, note, time), prediction sets by their canonical checksum. A dataset without label
/// history here takes the bundle's label versions as they are, so earlier versions of its leaderboard are reproduced
/// too; on a dataset with history the new events make one new label version, as other imports do. Importing a bundle
/// whose content was imported before is a no-op.
/// </para>
/// </summary>
public static class BundleImporter
{
    private sealed class Target
    {
        public long? Id { get; set; }
        public long? LabelSpaceId { get; set; }
        public long LabelVersion { get; set; }
        /// <summary>No verdict or flag events and no label versions: the bundle's history can be taken as it is.</summary>
        public bool Fresh { get; set; } = true;
        public bool HasShift { get; set; }
        public HashSet<string> Subsets { get; } = new(StringComparer.Ordinal);
    }

    private sealed record TargetRow
    {
        public required long Id { get; init; }
        public required long LabelSpaceId { get; init; }
        public required string ConsensusRule { get; init; }
        public required long LabelVersion { get; init; }
        public required string? ShiftOf { get; init; }
        public required bool HasHistory { get; init; }
    }

    private sealed record SubsetRow
    {
        public required string Name { get; init; }
        public required string? IncludeRoot { get; init; }
        public required string? ExcludeRoot { get; init; }
        public required string[]? Wnids { get; init; }
        public required bool BuiltIn { get; init; }
    }

    private static readonly string[] GzipTypes = ["application/gzip", "application/x-gzip", "application/x-compressed-tar", "application/octet-stream"];

    public static async Task<Results<Accepted<JobAccepted>, Ok<ImportUnchanged>, ProblemHttpResult>> ImportAsync(
        HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs, ImageStore store, IOptions<RelabelOptions> options)
    {
        var request = context.Request;
        var gzip = GzipTypes.Any(t => request.ContentType?.StartsWith(t, StringComparison.OrdinalIgnoreCase) == true);
        if (!gzip && request.ContentType?.StartsWith("application/x-tar", StringComparison.OrdinalIgnoreCase) != true)
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415,
                detail: $"Send the bundle as {BundleFormat.ContentType} (a .tar.gz), or application/x-tar.");
        var limit = options.Value.MaxImportBytes;
        if (RequestLimits.Apply(context, limit) is { } tooLarge) return tooLarge;

        var errors = new LineErrors();
        using var reader = new BundleReader(errors);
        await using (var body = BoundedStream.RequestBody(request, limit))
        {
            Stream tar = body;
            try
            {
                if (gzip) tar = new BoundedStream(new GZipStream(body, CompressionMode.Decompress, leaveOpen: true), limit);
                await reader.ExtractAsync(tar, context.RequestAborted);
            }
            catch (InvalidDataException e) { errors.Add("(archive)", 0, "archive", $"Not a gzip-compressed tar archive: {e.Message}"); }
            finally { if (tar != body) await tar.DisposeAsync(); }
        }
        const string Title = "Invalid bundle (nothing was imported)";
        if (errors.Any) return errors.ToProblem(Title);
        var manifest = reader.CheckManifest();
        if (manifest is null) return errors.ToProblem(Title);

        // The files are those of the manifest, so its checksums name the content: imported before, nothing to read.
        var slugs = manifest.Datasets!.Distinct().ToArray();
        await using (var connection = await db.OpenConnectionAsync())
            if (await connection.ExecuteScalarAsync<long>(
                    """
                    select count(*) from imports i join datasets d on d.id = i.dataset_id
                    where d.slug = any(@slugs) and i.kind = 'bundle' and i.checksum = @checksum
                    """,
                    new { slugs, checksum = BundleFormat.ContentChecksum(manifest.Files!) }) == slugs.Length)
                return TypedResults.Ok(new ImportUnchanged("unchanged", "This bundle's content was already imported; nothing was written."));

        var bundle = await reader.ReadAsync(manifest, context.RequestAborted);
        if (bundle is null) return errors.ToProblem(Title);
        Dictionary<string, Target> targets;
        await using (var connection = await db.OpenConnectionAsync())
            targets = await CheckTargetAsync(connection, null, bundle, errors);
        if (errors.Any) return errors.ToProblem("The bundle does not fit this server's data (nothing was imported)");

        var admin = user.UserId();
        var jobId = await jobs.EnqueueAsync("import-bundle", targets[bundle.Manifest.Datasets![0]].Id, admin, bundle.Rows,
            job => WriteAsync(job, bundle, admin, store));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, "queued", $"/api/jobs/{jobId}"));
    }

    /// <summary>
    /// Checks the bundle against the database and says, per dataset slug, what exists already. In the job, with a
    /// transaction, the existing datasets are locked until it commits.
    /// </summary>
    private static async Task<Dictionary<string, Target>> CheckTargetAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, BundleContent bundle, LineErrors errors)
    {
        await CheckWnidsAsync(connection, transaction, bundle, errors);
        var targets = new Dictionary<string, Target>(StringComparer.Ordinal);
        foreach (var d in bundle.Datasets)
        {
            var target = new Target();
            targets[d.Slug] = target;
            var row = await connection.QuerySingleOrDefaultAsync<TargetRow>(
                $"""
                 select d.id, d.label_space_id, d.consensus_rule, d.label_version, s.slug as shift_of,
                        exists (select 1 from label_versions v where v.dataset_id = d.id)
                        or exists (select 1 from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                                   where i.dataset_id = d.id)
                        or exists (select 1 from image_flag_events f join images i on i.id = f.image_id where i.dataset_id = d.id) as has_history
                 from datasets d left join datasets s on s.id = d.shift_of
                 where d.slug = @Slug
                 {(transaction is null ? "" : "for update of d")}
                 """,
                new { d.Slug }, transaction);
            if (row is null)
            {
                if (d.Meta.ShiftOf is { } shift && bundle.Datasets.All(o => o.Slug != shift)
                    && !await connection.ExecuteScalarAsync<bool>("select exists (select 1 from datasets where slug = @shift)", new { shift }, transaction))
                    errors.Add(BundleFormat.Datasets, d.Line, "shiftOf", $"'{shift}' is neither in the bundle nor on this server.");
                continue;
            }
            target.Id = row.Id;
            target.LabelSpaceId = row.LabelSpaceId;
            target.LabelVersion = row.LabelVersion;
            target.Fresh = !row.HasHistory && row.LabelVersion == 0;
            target.HasShift = row.ShiftOf is not null;
            await CheckExistingAsync(connection, transaction, d, row, target, errors);
        }
        return targets;
    }

    /// <summary>Every wnid of the bundle (classes, subset roots, guide notes) must be a WordNet noun synset here.</summary>
    private static async Task CheckWnidsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, BundleContent bundle, LineErrors errors)
    {
        var places = new Dictionary<string, (string File, long Line, string Field)>(StringComparer.Ordinal);
        foreach (var d in bundle.Datasets.Where(d => d.Meta.LabelSpaceOf is null))
            for (var i = 0; i < d.Classes.Length; i++) places.TryAdd(d.Classes[i], (d.ClassLines[i].File, d.ClassLines[i].Line, "wnid"));
        foreach (var d in bundle.Datasets)
            foreach (var s in d.Subsets)
            {
                if (s.IncludeRoot is { } include) places.TryAdd(include, (BundleFormat.DatasetFile(d.Slug, BundleFormat.Subsets), s.Line, "includeRoot"));
                if (s.ExcludeRoot is { } exclude) places.TryAdd(exclude, (BundleFormat.DatasetFile(d.Slug, BundleFormat.Subsets), s.Line, "excludeRoot"));
            }
        foreach (var (note, line) in bundle.GuideNotes)
        {
            places.TryAdd(note.Wnid!, (BundleFormat.GuideNotes, line, "wnid"));
            if (note.OtherWnid is { } other) places.TryAdd(other, (BundleFormat.GuideNotes, line, "otherWnid"));
        }
        var unknown = await connection.QueryAsync<string>(
            "select w from unnest(@wnids::text[]) w where not exists (select 1 from synsets s where s.wnid = w)",
            new { wnids = places.Keys.ToArray() }, transaction);
        foreach (var wnid in unknown)
        {
            var (file, line, field) = places[wnid];
            errors.Add(file, line, field, $"'{wnid}' is not a WordNet 3.0 noun synset on this server.");
        }
    }

    /// <summary>A dataset that exists here must agree with the bundle: classes, rule, shift, image labels, subsets.</summary>
    private static async Task CheckExistingAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, BundleDataset d, TargetRow row, Target target, LineErrors errors)
    {
        var classes = (await connection.QueryAsync<string>(
            "select wnid from label_space_classes where label_space_id = @LabelSpaceId order by class_index", new { row.LabelSpaceId }, transaction)).ToArray();
        if (!classes.SequenceEqual(d.Classes))
            errors.Add(BundleFormat.Datasets, d.Line, "slug",
                $"Dataset '{d.Slug}' exists here with other classes ({classes.Length}, the bundle has {d.Classes.Length}, or in another order).");
        var rule = d.Meta.ConsensusRule ?? Consensus.Latest;
        if (row.ConsensusRule != rule)
            errors.Add(BundleFormat.Datasets, d.Line, "consensusRule",
                $"Dataset '{d.Slug}' has the consensus rule '{row.ConsensusRule}' here and '{rule}' in the bundle; set it first (PUT /api/datasets/{d.Slug}/consensus).");
        if (row.ShiftOf is not null && d.Meta.ShiftOf is { } shiftOf && row.ShiftOf != shiftOf)
            errors.Add(BundleFormat.Datasets, d.Line, "shiftOf", $"Dataset '{d.Slug}' is a shift of '{row.ShiftOf}' here and of '{shiftOf}' in the bundle.");

        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var rows = await connection.ExecuteReaderAsync(
            "select file_name, original_wnid from images where dataset_id = @Id", new { row.Id }, transaction))
            while (await rows.ReadAsync()) images[rows.GetString(0)] = rows.GetString(1);
        for (var i = 0; i < d.Images.Count; i++)
            if (images.TryGetValue(d.Images[i].File, out var wnid) && wnid != d.Classes[d.Images[i].Class])
                errors.Add(BundleFormat.DatasetFile(d.Slug, BundleFormat.Images), d.ImageLines[i], "wnid",
                    $"'{d.Images[i].File}' is labelled '{wnid}' here and '{d.Classes[d.Images[i].Class]}' in the bundle.");

        var subsets = (await connection.QueryAsync<SubsetRow>(
            "select name, include_root, exclude_root, wnids, built_in from subsets where dataset_id = @Id", new { row.Id }, transaction)).ToList();
        foreach (var s in d.Subsets)
            if (subsets.FirstOrDefault(o => o.Name == s.Name) is { } other)
            {
                target.Subsets.Add(s.Name);
                if (other.BuiltIn || other.IncludeRoot != s.IncludeRoot || other.ExcludeRoot != s.ExcludeRoot
                    || !(other.Wnids ?? []).SequenceEqual(s.Wnids ?? []) || (other.Wnids is null) != (s.Wnids is null))
                    errors.Add(BundleFormat.DatasetFile(d.Slug, BundleFormat.Subsets), s.Line, "name",
                        $"Subset '{s.Name}' of '{d.Slug}' exists here with another definition.");
            }
    }

    private sealed class DatasetOutcome
    {
        public required string Dataset { get; init; }
        public bool Created { get; set; }
        public int ImagesAdded { get; set; }
        public int PredictionSetsReplaced { get; set; }
        public int VerdictsAdded { get; set; }
        public int FlagsAdded { get; set; }
        public int ChangedItems { get; set; }
        public int ChangedFlags { get; set; }
        /// <summary>Items whose state, derived here from the events, differs from the state the bundle recorded.</summary>
        public int StatesDifferingFromBundle { get; set; }
        public long LabelVersion { get; set; }
    }

    private static async Task<object> WriteAsync(JobContext job, BundleContent bundle, long admin, ImageStore store)
    {
        var started = Stopwatch.StartNew();
        var progress = new Progress(job, bundle.Rows);
        await using var connection = await job.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Bundle imports run one at a time (the job queue does too); the existing datasets are locked by the check.
        await connection.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended('import-bundle', 0))", transaction: transaction);
        var errors = new LineErrors();
        var targets = await CheckTargetAsync(connection, transaction, bundle, errors);
        if (errors.Any)
            throw new JobFailedException("The data changed since the bundle was checked: " +
                string.Join(" ", errors.First.Take(5).Select(e => $"{e.File} line {e.Line}: {e.Message}")));
        progress.Phase("check");
        await progress.ReportAsync("writing accounts, datasets and images", force: true);

        var (accountsCreated, userIds, accountIds) = await WriteAccountsAsync(connection, transaction, bundle);
        var (sourceIds, sourcesCreated) = await LabelImport.SourcesAsync(connection, transaction, bundle.Sources.Select(s => s.Name!).ToArray(),
            bundle.Sources.Select(s => s.Kind!).ToArray(), bundle.Sources.Select(s => s.Description!).ToArray());
        var (modelsCreated, modelIds) = await WriteModelsAsync(connection, transaction, bundle, userIds, admin);
        progress.Phase("accounts and models");

        var outcomes = new List<DatasetOutcome>();
        foreach (var d in bundle.Datasets)
            outcomes.Add(await WriteDatasetContentAsync(
                connection, transaction, progress, d, targets, admin, store, modelIds, accountIds, sourceIds));

        var notes = await WriteGuideNotesAsync(connection, transaction, bundle, userIds, admin);
        await RecordImportAsync(connection, transaction, bundle, targets, job.Id);
        await transaction.CommitAsync();
        progress.Phase("guide notes and commit");
        return new
        {
            datasets = outcomes,
            accountsCreated,
            sourcesCreated,
            modelsCreated,
            guideNotesWritten = notes,
            checksum = bundle.Checksum,
            seconds = Math.Round(started.Elapsed.TotalSeconds, 2),
            phases = progress.Phases,
        };
    }

    /// <summary>One dataset of the bundle: its row, images, image sets, reference labels, predictions, then its review.</summary>
    private static async Task<DatasetOutcome> WriteDatasetContentAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Progress progress, BundleDataset d, Dictionary<string, Target> targets,
        long admin, ImageStore store, Dictionary<string, long> modelIds, long[] accountIds, long[] sourceIds)
    {
        var target = targets[d.Slug];
        var outcome = new DatasetOutcome { Dataset = d.Slug, Created = target.Id is null };
        var rule = d.Meta.ConsensusRule ?? Consensus.Latest;
        var datasetId = await WriteDatasetAsync(connection, transaction, d, rule, target, targets);

        progress.Phase("datasets");
        var (imageIds, added) = await WriteImagesAsync(connection, transaction, datasetId, d, store);
        outcome.ImagesAdded = added;
        progress.Done += d.Images.Count;
        await progress.ReportAsync($"{d.Slug}: writing image sets, reference labels and predictions");

        await WriteImageSetsAsync(connection, transaction, datasetId, d, imageIds);
        if (d.ReferenceLabels is { } reference) await WriteReferenceLabelsAsync(connection, transaction, datasetId, admin, reference, imageIds);
        progress.Phase("images, image sets and reference labels");

        foreach (var set in d.Predictions)
        {
            var rows = set.Rows.Select(r => r with { ImageId = imageIds[r.ImageId] }).ToList();
            var upload = new PredictionUpload(modelIds[set.Model], datasetId, admin, "ndjson", rows.Count < d.Images.Count, set.K, rows);
            var applied = await PredictionStore.ApplyAsync(connection, transaction, upload, Stopwatch.StartNew(), recordUnchanged: false);
            if (applied.Outcome == PredictionStore.Applied) outcome.PredictionSetsReplaced++;
            progress.Done += set.Rows.Count;
            await progress.ReportAsync($"{d.Slug}: writing predictions");
        }

        progress.Phase("predictions");
        await progress.ReportAsync($"{d.Slug}: writing review items and events", force: true);
        await WriteReviewAsync(connection, transaction, datasetId, rule, target, d, outcome, imageIds, accountIds, sourceIds, progress.Phase);
        progress.Done += d.Items.Count + d.Verdicts.Count + d.Flags.Count;
        await progress.ReportAsync($"{d.Slug}: done", force: true);
        return outcome;
    }

    /// <summary>A job's progress in rows written, and the seconds per phase summed over the datasets.</summary>
    private sealed class Progress(JobContext job, long total)
    {
        private readonly Stopwatch _lap = Stopwatch.StartNew();
        public Dictionary<string, double> Phases { get; } = [];
        public long Done { get; set; }

        public void Phase(string name)
        {
            Phases[name] = Math.Round(Phases.GetValueOrDefault(name) + _lap.Elapsed.TotalSeconds, 2);
            _lap.Restart();
        }

        public Task ReportAsync(string message, bool force = false) => job.ReportAsync(Done, total, message, force);
    }

    /// <summary>The bundle's accounts, created where missing (without password: an admin resets one to let them sign in).</summary>
    private static async Task<(int Created, Dictionary<string, long> Ids, long[] InOrder)> WriteAccountsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BundleContent bundle)
    {
        var accountNames = bundle.Accounts.Select(a => a.Name!).ToArray();
        var created = await connection.ExecuteAsync(
            """
            insert into users (name, display_name)
            select n, coalesce(d, '') from unnest(@accountNames::text[], @displayNames::text[]) as t(n, d)
            on conflict (name) do nothing
            """,
            new { accountNames, displayNames = bundle.Accounts.Select(a => a.DisplayName).ToArray() }, transaction);
        var userIds = (await connection.QueryAsync<(string Name, long Id)>(
            "select name, id from users where name = any(@accountNames)", new { accountNames }, transaction)).ToDictionary(u => u.Name, u => u.Id);
        var accountIds = accountNames.Select(n => userIds[n]).ToArray();

        return (created, userIds, accountIds);
    }

    /// <summary>The bundle's models, created where missing (an existing slug is the same model); returns their ids by slug.</summary>
    private static async Task<(int Created, Dictionary<string, long> Ids)> WriteModelsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BundleContent bundle, Dictionary<string, long> userIds, long admin)
    {
        var modelIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var modelsCreated = 0;
        foreach (var (model, _) in bundle.Models)
        {
            var created = await connection.QuerySingleOrDefaultAsync<long?>(
                """
                insert into models (slug, display_name, kind, description, paper_url, code_url, parameter_count, training_data, tags, owner_id,
                                    created_at, updated_at)
                values (@Slug, @DisplayName, @Kind, @description, @PaperUrl, @CodeUrl, @ParameterCount, @trainingData, @tags, @owner,
                        coalesce(@createdAt::timestamptz, now()), coalesce(@updatedAt::timestamptz, now()))
                on conflict (slug) do nothing
                returning id
                """,
                new
                {
                    model.Slug, model.DisplayName, model.Kind, description = model.Description ?? "", PaperUrl = Blank(model.PaperUrl),
                    CodeUrl = Blank(model.CodeUrl), model.ParameterCount, trainingData = model.TrainingData ?? "", tags = model.Tags ?? [],
                    owner = model.Owner is { } o ? userIds[o] : admin, createdAt = Iso(model.CreatedAt), updatedAt = Iso(model.UpdatedAt),
                },
                transaction);
            if (created is not null) modelsCreated++;
            modelIds[model.Slug!] = created ?? await connection.ExecuteScalarAsync<long>(
                "select id from models where slug = @Slug", new { model.Slug }, transaction);
        }
        return (modelsCreated, modelIds);
    }

    /// <summary>The dataset's row (with its label space and built-in subsets when new) and the subsets it lacks; returns its id.</summary>
    private static async Task<long> WriteDatasetAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BundleDataset d, string rule, Target target, Dictionary<string, Target> targets)
    {
        long? shiftOf = d.Meta.ShiftOf is { } shift
            ? targets.TryGetValue(shift, out var pair) ? pair.Id
              : await connection.ExecuteScalarAsync<long>("select id from datasets where slug = @shift", new { shift }, transaction)
            : null;
        if (target.Id is null)
        {
            target.LabelSpaceId = d.Meta.LabelSpaceOf is { } of ? targets[of].LabelSpaceId : null;
            if (target.LabelSpaceId is null)
            {
                target.LabelSpaceId = await connection.ExecuteScalarAsync<long>("insert into label_spaces default values returning id", transaction: transaction);
                await LabelSpaces.ReplaceClassesAsync(connection, transaction, target.LabelSpaceId.Value, d.Classes);
            }
            target.Id = await connection.ExecuteScalarAsync<long>(
                """
                insert into datasets (slug, name, description, label_space_id, shift_of, images_public, consensus_rule, created_at)
                values (@Slug, @Name, @description, @labelSpaceId, @shiftOf, @imagesPublic, @rule, coalesce(@createdAt::timestamptz, now()))
                returning id
                """,
                new
                {
                    d.Meta.Slug, d.Meta.Name, description = d.Meta.Description ?? "", labelSpaceId = target.LabelSpaceId, shiftOf,
                    imagesPublic = d.Meta.ImagesPublic ?? false, rule, createdAt = Iso(d.Meta.CreatedAt),
                },
                transaction);
            await DatasetsApi.CreateBuiltInSubsetsAsync(connection, transaction, target.Id.Value);
        }
        else if (!target.HasShift && shiftOf is not null)
            await connection.ExecuteAsync("update datasets set shift_of = @shiftOf where id = @Id", new { shiftOf, target.Id }, transaction);
        var datasetId = target.Id.Value;

        foreach (var s in d.Subsets.Where(s => !target.Subsets.Contains(s.Name)))
            await connection.ExecuteAsync(
                """
                insert into subsets (dataset_id, name, description, include_root, exclude_root, wnids)
                values (@datasetId, @Name, @Description, @IncludeRoot, @ExcludeRoot, @Wnids)
                """,
                new { datasetId, s.Name, s.Description, s.IncludeRoot, s.ExcludeRoot, s.Wnids }, transaction);
        return datasetId;
    }

    /// <summary>The dataset's image sets, created where missing, with the members the bundle lists.</summary>
    private static async Task WriteImageSetsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, BundleDataset d, long[] imageIds)
    {
        foreach (var set in d.ImageSets)
            await connection.ExecuteAsync(
                """
                with s as (
                    insert into image_sets (dataset_id, name, description) values (@datasetId, @Name, @Description)
                    on conflict (dataset_id, name) do update set description = image_sets.description
                    returning id
                )
                insert into image_set_members (image_set_id, image_id)
                select s.id, unnest(@members) from s
                on conflict do nothing
                """,
                new { datasetId, set.Name, set.Description, members = set.Images.Select(i => imageIds[i]).ToArray() }, transaction);
    }

    /// <summary>The bundle's guide notes; a note newer here is kept. Returns how many were written.</summary>
    private static async Task<int> WriteGuideNotesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BundleContent bundle, Dictionary<string, long> userIds, long admin)
    {
        var notes = 0;
        foreach (var (note, _) in bundle.GuideNotes)
            notes += await connection.ExecuteAsync(
                """
                insert into guide_notes (wnid, other_wnid, body, updated_by, updated_at)
                values (@Wnid, @OtherWnid, @Body, @author, coalesce(@updatedAt::timestamptz, now()))
                on conflict (wnid, coalesce(other_wnid, '')) do update
                set body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at
                where guide_notes.updated_at < excluded.updated_at
                """,
                new { note.Wnid, note.OtherWnid, note.Body, author = note.Author is { } a ? userIds[a] : admin, updatedAt = Iso(note.UpdatedAt) },
                transaction);
        return notes;
    }

    /// <summary>Records the import per dataset (the same content again is a no-op) and names the job's first dataset.</summary>
    private static async Task RecordImportAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BundleContent bundle, Dictionary<string, Target> targets, long jobId)
    {
        var datasetIds = bundle.Datasets.Select(d => targets[d.Slug].Id!.Value).ToArray();
        await connection.ExecuteAsync(
            """
            insert into imports (dataset_id, kind, checksum, job_id)
            select unnest(@datasetIds), 'bundle', @Checksum, @jobId
            on conflict do nothing
            """,
            new { datasetIds, bundle.Checksum, jobId }, transaction);
        await connection.ExecuteAsync("update jobs set dataset_id = @datasetId where id = @jobId",
            new { datasetId = targets[bundle.Manifest.Datasets![0]].Id, jobId }, transaction);
    }

    private static string? Blank(string? url) => string.IsNullOrEmpty(url) ? null : url;

    /// <summary>A timestamp as a parameter: ISO 8601 text cast to timestamptz in SQL, so no client-side type mapping is involved.</summary>
    private static string? Iso(DateTimeOffset? time) => time is { } t ? BundleFormat.Microseconds(t).ToString("O", CultureInfo.InvariantCulture) : null;

    /// <summary>Adds the images the dataset lacks (in bundle order) and returns every bundle image's id here.</summary>
    private static async Task<(long[] Ids, int Added)> WriteImagesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, BundleDataset d, ImageStore store)
    {
        await connection.ExecuteAsync(
            """
            create temporary table bundle_images (
                position integer not null, file_name text not null, wnid text not null,
                sha256 text, byte_size bigint, width integer, height integer, media_type text) on commit drop
            """,
            transaction: transaction);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy bundle_images (position, file_name, wnid, sha256, byte_size, width, height, media_type) from stdin (format binary)"))
        {
            for (var i = 0; i < d.Images.Count; i++)
            {
                var image = d.Images[i];
                // The pixels are never in a bundle: the hash links an image only when this server holds those bytes.
                var stored = image.Sha256 is { } sha && File.Exists(store.PathOf(sha));
                await copy.StartRowAsync();
                await copy.WriteAsync(i, NpgsqlDbType.Integer);
                await copy.WriteAsync(image.File, NpgsqlDbType.Text);
                await copy.WriteAsync(d.Classes[image.Class], NpgsqlDbType.Text);
                if (stored)
                {
                    await copy.WriteAsync(image.Sha256!, NpgsqlDbType.Text);
                    await WriteNullableAsync(copy, image.Bytes, NpgsqlDbType.Bigint);
                    await WriteNullableAsync(copy, image.Width, NpgsqlDbType.Integer);
                    await WriteNullableAsync(copy, image.Height, NpgsqlDbType.Integer);
                    await copy.WriteAsync(image.MediaType!, NpgsqlDbType.Text);
                }
                else
                    for (var n = 0; n < 5; n++) await copy.WriteNullAsync();
            }
            await copy.CompleteAsync();
        }
        var added = await connection.ExecuteAsync(
            """
            insert into images (dataset_id, file_name, original_wnid, sha256, byte_size, width, height, media_type)
            select @datasetId, file_name, wnid, sha256, byte_size, width, height, media_type from bundle_images order by position
            on conflict (dataset_id, file_name) do nothing
            """,
            new { datasetId }, transaction);
        var ids = new long[d.Images.Count];
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"""
             copy (select b.position, i.id from bundle_images b join images i on i.file_name = b.file_name
                   where i.dataset_id = {datasetId.ToString(CultureInfo.InvariantCulture)}) to stdout (format binary)
             """))
            while (await reader.StartRowAsync() != -1)
            {
                var position = await reader.ReadAsync<int>(NpgsqlDbType.Integer);
                ids[position] = await reader.ReadAsync<long>(NpgsqlDbType.Bigint);
            }
        await connection.ExecuteAsync("drop table bundle_images", transaction: transaction);
        return (ids, added);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct =>
        value is { } v ? copy.WriteAsync(v, type) : copy.WriteNullAsync();

    /// <summary>Replaces the dataset's reference labels when they differ from the bundle's (a set is replaced whole).</summary>
    private static async Task WriteReferenceLabelsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, long admin, List<(int Image, short[] Classes)> reference, long[] imageIds)
    {
        var wanted = reference.ToDictionary(r => imageIds[r.Image], r => r.Classes);
        var current = new Dictionary<long, short[]>();
        var exists = await connection.ExecuteScalarAsync<bool>("select exists (select 1 from reference_label_sets where dataset_id = @datasetId)", new { datasetId }, transaction);
        if (exists)
            await using (var reader = await connection.BeginBinaryExportAsync(
                $"copy (select image_id, class_indices from dataset_reference_labels where dataset_id = {datasetId.ToString(CultureInfo.InvariantCulture)}) to stdout (format binary)"))
                while (await reader.StartRowAsync() != -1)
                {
                    var imageId = await reader.ReadAsync<long>(NpgsqlDbType.Bigint);
                    current[imageId] = await reader.ReadAsync<short[]>(NpgsqlDbType.Array | NpgsqlDbType.Smallint);
                }
        if (exists && current.Count == wanted.Count && wanted.All(w => current.TryGetValue(w.Key, out var c) && c.SequenceEqual(w.Value))) return;

        await connection.ExecuteAsync("delete from reference_label_sets where dataset_id = @datasetId", new { datasetId }, transaction);
        await connection.ExecuteAsync(
            "insert into reference_label_sets (dataset_id, imported_by, images, excluded) values (@datasetId, @admin, @images, @excluded)",
            new { datasetId, admin, images = wanted.Count, excluded = wanted.Count(w => w.Value.Length == 0) }, transaction);
        await using var copy = await connection.BeginBinaryImportAsync(
            "copy dataset_reference_labels (dataset_id, image_id, class_indices) from stdin (format binary)");
        foreach (var (imageId, classes) in wanted.OrderBy(w => w.Key))
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(datasetId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(imageId, NpgsqlDbType.Bigint);
            await copy.WriteAsync(classes, NpgsqlDbType.Array | NpgsqlDbType.Smallint);
        }
        await copy.CompleteAsync();
    }

    /// <summary>
    /// Review items, then the verdict and flag events the dataset does not have yet (in bundle order, so that each
    /// item's events keep their order), then the item and image states derived from all events, and the label version.
    /// </summary>
    private static async Task WriteReviewAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule, Target target, BundleDataset d,
        DatasetOutcome outcome, long[] imageIds, long[] accountIds, long[] sourceIds, Action<string> phase)
    {
        var control = d.Items.Where(i => i.Control).Select(i => (imageIds[i.Image], d.Classes[i.Class])).ToList();
        var items = control.Count == 0 ? new Dictionary<(long ImageId, string Wnid), long>() : await LabelImport.EnsureItemsAsync(connection, transaction, control, control: true, CancellationToken.None);
        var rest = d.Items.Where(i => !i.Control).Select(i => (imageIds[i.Image], d.Classes[i.Class]))
            .Concat(d.Verdicts.Select(v => (imageIds[v.Image], d.Classes[v.Class])));
        foreach (var (pair, id) in await LabelImport.EnsureItemsAsync(connection, transaction, rest, control: false, CancellationToken.None))
            items[pair] = id;
        var seen = target.Fresh ? new SeenEvents() : await SeenEventsAsync(connection, transaction, datasetId);
        LabelAuthor Author(BundleAuthor a) => a.IsSource ? LabelAuthor.Source(sourceIds[a.Index]) : LabelAuthor.Reviewer(accountIds[a.Index]);
        phase("review items");

        // A dataset with history gets the new events under one new label version; a fresh one takes the bundle's.
        var append = await LabelImport.BeginAsync(connection, transaction, datasetId, target.LabelVersion);
        var verdicts = d.Verdicts
            .Select(v => new BulkVerdict(items[(imageIds[v.Image], d.Classes[v.Class])], Author(v.Author), v.Verdict, v.Adjudication, v.Note,
                v.SecondsSpent, target.Fresh ? v.LabelVersion : append.Placeholder, v.CreatedAt))
            .Where(v => target.Fresh || seen.Verdicts.Add((v.ItemId, Key(v.Author), v.Verdict, v.Adjudication, v.Note, v.CreatedAt.Ticks)));
        outcome.VerdictsAdded = await append.CopyVerdictsAsync(verdicts, derivesFromThese: target.Fresh);
        phase("verdict events");
        var flags = d.Flags
            .Select(f => new BulkFlag(imageIds[f.Image], Author(f.Author), f.Problematic, f.Reason, f.Note,
                target.Fresh ? f.LabelVersion : append.Placeholder, f.CreatedAt))
            .Where(f => target.Fresh || seen.Flags.Add((f.ImageId, Key(f.Author), f.Problematic, f.Reason, f.Note, f.CreatedAt.Ticks)));
        var (flagsAdded, flaggedImages) = await append.CopyFlagsAsync(flags);
        outcome.FlagsAdded = flagsAdded;
        phase("flag events");

        var states = new Dictionary<long, string>();
        if (outcome.VerdictsAdded > 0) (outcome.ChangedItems, states) = await append.DeriveItemStatesAsync(rule);
        if (flaggedImages.Count > 0) outcome.ChangedFlags = await append.DeriveImageStatesAsync(flaggedImages);
        outcome.LabelVersion = target.Fresh
            ? await append.FinishWithHistoryAsync(
                d.LabelVersions.Select(v => new BulkAppend.HistoricVersion(v.Version, v.CreatedAt, v.ChangedItems, v.ChangedFlags, v.ConsensusRule)).ToList(),
                d.Meta.LabelVersion ?? 0)
            : await append.FinishAsync(outcome.ChangedItems, outcome.ChangedFlags);
        outcome.StatesDifferingFromBundle = d.Items.Count(i =>
            items.TryGetValue((imageIds[i.Image], d.Classes[i.Class]), out var id) && states.GetValueOrDefault(id, ItemStates.Pending) != i.State);
        phase("states and label versions");
    }

    /// <summary>An author as one number: an account's id, or a source's id negated.</summary>
    private static long Key(LabelAuthor author) => author.ReviewerId ?? -author.SourceId!.Value;

    /// <summary>The events a dataset has: a bundle's event is already here when one of the same item (or image), author, content and time is.</summary>
    private sealed class SeenEvents
    {
        public HashSet<(long Item, long Author, string Verdict, bool Adjudication, string Note, long Ticks)> Verdicts { get; } = [];
        public HashSet<(long Image, long Author, bool Problematic, string? Reason, string Note, long Ticks)> Flags { get; } = [];
    }

    private static async Task<SeenEvents> SeenEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId)
    {
        var seen = new SeenEvents();
        foreach (var e in await connection.QueryAsync<(long, long, string, bool, string, DateTime)>(
                     """
                     select e.item_id, coalesce(e.reviewer_id, -e.source_id), e.verdict, e.adjudication, e.note, e.created_at
                     from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                     where i.dataset_id = @datasetId
                     """,
                     new { datasetId }, transaction))
            seen.Verdicts.Add((e.Item1, e.Item2, e.Item3, e.Item4, e.Item5, e.Item6.Ticks));
        foreach (var f in await connection.QueryAsync<(long, long, bool, string?, string, DateTime)>(
                     """
                     select f.image_id, coalesce(f.reviewer_id, -f.source_id), f.problematic, f.reason, f.note, f.created_at
                     from image_flag_events f join images i on i.id = f.image_id
                     where i.dataset_id = @datasetId
                     """,
                     new { datasetId }, transaction))
            seen.Flags.Add((f.Item1, f.Item2, f.Item3, f.Item4, f.Item5, f.Item6.Ticks));
        return seen;
    }
}
