using System.Data;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Bundle;

/// <summary>
/// Writes the portable bundle of a dataset, its distribution-shift partners and any other datasets asked for (see
/// <see cref="BundleFormat"/>). Everything is read in one repeatable-read snapshot and spooled file by file to a
/// temporary directory (a tar entry needs its size first, the manifest every checksum), then streamed as tar.gz.
/// </summary>
public static class BundleExporter
{
    private sealed record DatasetRow
    {
        public required long Id { get; init; }
        public required string Slug { get; init; }
        public required string Name { get; init; }
        public required string Description { get; init; }
        public required long LabelSpaceId { get; init; }
        public required long? ShiftOf { get; init; }
        public required string ConsensusRule { get; init; }
        public required bool ImagesPublic { get; init; }
        public required long LabelVersion { get; init; }
        public required DateTime CreatedAt { get; init; }
    }

    private sealed record PredictionSetRow(long ModelId, string Model, short K, int Rows, long UploadId);

    /// <param name="with">More datasets to put in the bundle (their shift partners come along too).</param>
    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExportAsync(
        string slug, HttpContext context, NpgsqlDataSource db, string[]? with = null)
    {
        var ct = context.RequestAborted;
        await using var connection = await db.OpenConnectionAsync(ct);
        // One snapshot for every file: the events, states and predictions of the bundle belong together.
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await connection.ExecuteAsync("set transaction read only", transaction: transaction);

        var asked = new[] { slug }.Concat(with ?? []).Distinct().ToArray();
        var found = (await connection.QueryAsync<string>("select slug from datasets where slug = any(@asked)", new { asked }, transaction)).ToHashSet();
        if (asked.FirstOrDefault(s => !found.Contains(s)) is { } missing) return Problems.NotFound($"Dataset '{missing}' does not exist.");
        var datasets = await DatasetsAsync(connection, transaction, asked);

        var directory = Path.Combine(Path.GetTempPath(), "relabel-bundle-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var files = new List<(BundleFileEntry Entry, string DiskPath)>();
            BundleFileWriter Open(string path) => new(path, Path.Combine(directory, files.Count.ToString("D6", CultureInfo.InvariantCulture) + ".ndjson"));
            void Close(BundleFileWriter writer) => files.Add((writer.Finish(), writer.DiskPath));

            var ids = datasets.Select(d => d.Id).ToArray();
            var spaces = datasets.Select(d => d.LabelSpaceId).Distinct().ToArray();
            var modelIds = (await connection.QueryAsync<long>(
                "select distinct model_id from prediction_sets where dataset_id = any(@ids)", new { ids }, transaction)).ToArray();

            using (var writer = Open(BundleFormat.Datasets))
            {
                foreach (var d in datasets)
                    writer.Write(new BundleDatasetLine
                    {
                        Slug = d.Slug,
                        Name = d.Name,
                        Description = d.Description,
                        LabelSpaceOf = datasets.TakeWhile(o => o != d).FirstOrDefault(o => o.LabelSpaceId == d.LabelSpaceId)?.Slug,
                        ShiftOf = datasets.FirstOrDefault(o => o.Id == d.ShiftOf)?.Slug,
                        ConsensusRule = d.ConsensusRule,
                        ImagesPublic = d.ImagesPublic,
                        LabelVersion = d.LabelVersion,
                        CreatedAt = new DateTimeOffset(d.CreatedAt),
                    });
                Close(writer);
            }
            await WriteAsync(Open(BundleFormat.Accounts), Close, connection.QueryUnbufferedAsync<BundleAccountLine>(
                """
                select u.name, nullif(u.display_name, '') as display_name from users u
                where u.id in (
                    select e.reviewer_id from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                    where i.dataset_id = any(@ids)
                    union select f.reviewer_id from image_flag_events f join images i on i.id = f.image_id where i.dataset_id = any(@ids)
                    union select m.owner_id from models m where m.id = any(@modelIds)
                    union select g.updated_by from guide_notes g where exists (
                        select 1 from label_space_classes c where c.label_space_id = any(@spaces) and c.wnid in (g.wnid, g.other_wnid)))
                order by u.id
                """,
                new { ids, modelIds, spaces }, transaction));
            await WriteAsync(Open(BundleFormat.Sources), Close, connection.QueryUnbufferedAsync<BundleSourceLine>(
                """
                select s.name, s.kind, s.description from verdict_sources s
                where s.id in (
                    select e.source_id from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                    where i.dataset_id = any(@ids)
                    union select f.source_id from image_flag_events f join images i on i.id = f.image_id where i.dataset_id = any(@ids))
                order by s.id
                """,
                new { ids }, transaction));
            await WriteAsync(Open(BundleFormat.Models), Close, connection.QueryUnbufferedAsync<BundleModelLine>(
                """
                select m.slug, m.display_name, m.kind, m.description, m.paper_url, m.code_url, m.parameter_count, m.training_data,
                       m.tags, u.name as owner, m.created_at, m.updated_at
                from models m join users u on u.id = m.owner_id
                where m.id = any(@modelIds)
                order by m.id
                """,
                new { modelIds }, transaction));
            await WriteAsync(Open(BundleFormat.GuideNotes), Close, connection.QueryUnbufferedAsync<BundleGuideNoteLine>(
                """
                select g.wnid, g.other_wnid, g.body, u.name as author, g.updated_at
                from guide_notes g join users u on u.id = g.updated_by
                where exists (select 1 from label_space_classes c where c.label_space_id = any(@spaces) and c.wnid in (g.wnid, g.other_wnid))
                order by g.id
                """,
                new { spaces }, transaction));

            foreach (var d in datasets)
                await WriteDatasetAsync(connection, transaction, d, datasets, Open, Close, ct);

            var created = DateTimeOffset.UtcNow;
            var manifest = new BundleManifest
            {
                Format = BundleFormat.Name,
                Version = BundleFormat.Version,
                CreatedAt = created,
                RelabelVersion = BundleFormat.RelabelVersion,
                // The datasets asked for first: an import's job is shown under the first one.
                Datasets = asked.Concat(datasets.Select(d => d.Slug).Except(asked)).ToArray(),
                Files = files.Select(f => f.Entry).ToArray(),
            };
            var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, new JsonSerializerOptions(BundleFormat.Json) { WriteIndented = true });
            await transaction.CommitAsync(ct);

            context.Response.ContentType = BundleFormat.ContentType;
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{slug}-bundle.tar.gz\"";
            await using (var gzip = new GZipStream(context.Response.Body, CompressionLevel.Optimal, leaveOpen: true))
            {
                await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
                {
                    await tar.WriteEntryAsync(Entry(BundleFormat.Manifest, new MemoryStream(manifestBytes), created), ct);
                    foreach (var (entry, diskPath) in files)
                    {
                        await using var data = new FileStream(diskPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);
                        await tar.WriteEntryAsync(Entry(entry.Path!, data, created), ct);
                    }
                }
            }
            return TypedResults.Empty;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static PaxTarEntry Entry(string path, Stream data, DateTimeOffset time) => new(TarEntryType.RegularFile, path)
    {
        DataStream = data,
        ModificationTime = time,
        Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
    };

    /// <summary>The datasets asked for and, transitively, their distribution-shift partners, oldest first.</summary>
    private static async Task<List<DatasetRow>> DatasetsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] slugs)
    {
        const string Select =
            """
            select id, slug, name, description, label_space_id, shift_of, consensus_rule, images_public, label_version, created_at
            from datasets
            """;
        var rows = (await connection.QueryAsync<DatasetRow>(Select + " where slug = any(@slugs)", new { slugs }, transaction)).ToDictionary(d => d.Id);
        while (true)
        {
            var ids = rows.Keys.ToArray();
            var shiftOf = rows.Values.Where(d => d.ShiftOf is not null).Select(d => d.ShiftOf!.Value).ToArray();
            var partners = (await connection.QueryAsync<DatasetRow>(
                Select + " where (shift_of = any(@ids) or id = any(@shiftOf)) and not (id = any(@ids))", new { ids, shiftOf }, transaction)).ToList();
            if (partners.Count == 0) break;
            foreach (var p in partners) rows[p.Id] = p;
        }
        return rows.Values.OrderBy(d => d.Id).ToList();
    }

    private static async Task WriteAsync<T>(BundleFileWriter writer, Action<BundleFileWriter> close, IAsyncEnumerable<T> lines)
    {
        using (writer)
        {
            await foreach (var line in lines) writer.Write(line);
            close(writer);
        }
    }

    private static async Task WriteDatasetAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DatasetRow d, List<DatasetRow> datasets,
        Func<string, BundleFileWriter> open, Action<BundleFileWriter> close, CancellationToken ct)
    {
        string File(string name) => BundleFormat.DatasetFile(d.Slug, name);
        var classes = (await connection.QueryAsync<string>(
            "select wnid from label_space_classes where label_space_id = @LabelSpaceId order by class_index", new { d.LabelSpaceId }, transaction)).ToArray();
        if (datasets.TakeWhile(o => o != d).All(o => o.LabelSpaceId != d.LabelSpaceId))
            using (var writer = open(File(BundleFormat.Classes)))
            {
                for (var i = 0; i < classes.Length; i++) writer.Write(new BundleClassLine { Index = i, Wnid = classes[i] });
                close(writer);
            }

        await WriteAsync(open(File(BundleFormat.Subsets)), close, connection.QueryUnbufferedAsync<BundleSubsetLine>(
            """
            select name, nullif(description, '') as description, include_root, exclude_root, wnids
            from subsets where dataset_id = @Id and not built_in order by id
            """,
            new { d.Id }, transaction));
        await WriteAsync(open(File(BundleFormat.Images)), close, connection.QueryUnbufferedAsync<BundleImageLine>(
            """
            select file_name as file, original_wnid as wnid, sha256, media_type, byte_size as bytes, width, height
            from images where dataset_id = @Id order by id
            """,
            new { d.Id }, transaction));
        if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from reference_label_sets where dataset_id = @Id)", new { d.Id }, transaction))
            await WriteAsync(open(File(BundleFormat.ReferenceLabels)), close, connection.QueryUnbufferedAsync<BundleReferenceLabelLine>(
                """
                select i.file_name as image,
                       array(select c.wnid from unnest(r.class_indices) with ordinality as u(class_index, position)
                             join label_space_classes c on c.label_space_id = @LabelSpaceId and c.class_index = u.class_index
                             order by u.position) as labels
                from dataset_reference_labels r join images i on i.id = r.image_id
                where r.dataset_id = @Id order by i.id
                """,
                new { d.Id, d.LabelSpaceId }, transaction));
        await WriteAsync(open(File(BundleFormat.ImageSets)), close, connection.QueryUnbufferedAsync<BundleImageSetLine>(
            """
            select s.name, nullif(s.description, '') as description,
                   array(select i.file_name from image_set_members m join images i on i.id = m.image_id
                         where m.image_set_id = s.id order by i.id) as images
            from image_sets s where s.dataset_id = @Id order by s.id
            """,
            new { d.Id }, transaction));
        await WriteAsync(open(File(BundleFormat.LabelVersions)), close, connection.QueryUnbufferedAsync<BundleLabelVersionLine>(
            """
            select version, created_at, changed_items, changed_flags, consensus_rule
            from label_versions where dataset_id = @Id order by version
            """,
            new { d.Id }, transaction));
        await WriteAsync(open(File(BundleFormat.ReviewItems)), close, connection.QueryUnbufferedAsync<BundleReviewItemLine>(
            """
            select i.file_name as image, r.wnid, case when r.control then true end as control, r.state
            from review_items r join images i on i.id = r.image_id
            where i.dataset_id = @Id order by r.id
            """,
            new { d.Id }, transaction));
        await WriteAsync(open(File(BundleFormat.Verdicts)), close, connection.QueryUnbufferedAsync<BundleVerdictLine>(
            """
            select i.file_name as image, r.wnid, u.name as reviewer, s.name as source, e.verdict,
                   case when e.adjudication then true end as adjudication, nullif(e.note, '') as note, e.seconds_spent,
                   e.label_version, e.created_at
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            left join users u on u.id = e.reviewer_id
            left join verdict_sources s on s.id = e.source_id
            where i.dataset_id = @Id order by e.id
            """,
            new { d.Id }, transaction));
        await WriteAsync(open(File(BundleFormat.Flags)), close, connection.QueryUnbufferedAsync<BundleFlagLine>(
            """
            select i.file_name as image, u.name as reviewer, s.name as source, f.problematic, f.reason, nullif(f.note, '') as note,
                   f.label_version, f.created_at
            from image_flag_events f
            join images i on i.id = f.image_id
            left join users u on u.id = f.reviewer_id
            left join verdict_sources s on s.id = f.source_id
            where i.dataset_id = @Id order by f.id
            """,
            new { d.Id }, transaction));

        var sets = (await connection.QueryAsync<PredictionSetRow>(
            """
            select ps.model_id, m.slug as model, ps.k, ps.rows, ps.upload_id
            from prediction_sets ps join models m on m.id = ps.model_id
            where ps.dataset_id = @Id order by ps.model_id
            """,
            new { d.Id }, transaction)).ToList();
        using (var writer = open(File(BundleFormat.PredictionSets)))
        {
            foreach (var set in sets)
                writer.Write(new BundlePredictionSetLine { Model = set.Model, File = BundleFormat.PredictionsFile(d.Slug, set.Model), K = set.K, Rows = set.Rows });
            close(writer);
        }
        foreach (var set in sets)
        {
            using var writer = open(BundleFormat.PredictionsFile(d.Slug, set.Model));
            // COPY takes no parameters; the upload id is a number we format ourselves.
            await using (var reader = await connection.BeginBinaryExportAsync(
                $"""
                 copy (select i.file_name, p.labels, p.scores from predictions p join images i on i.id = p.image_id
                       where p.upload_id = {set.UploadId.ToString(CultureInfo.InvariantCulture)} order by i.id) to stdout (format binary)
                 """, ct))
                while (await reader.StartRowAsync(ct) != -1)
                {
                    var image = await reader.ReadAsync<string>(NpgsqlDbType.Text, ct);
                    var labels = await reader.ReadAsync<short[]>(NpgsqlDbType.Array | NpgsqlDbType.Smallint, ct);
                    var scores = reader.IsNull ? null : await reader.ReadAsync<float[]>(NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
                    if (scores is null) await reader.SkipAsync(ct);
                    writer.Write(new BundlePredictionLine { Image = image, Labels = labels.Select(l => classes[l]).ToArray(), Scores = scores });
                }
            close(writer);
        }
    }
}
