using System.Collections.Concurrent;
using System.Globalization;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Review;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>A dataset's current prediction set: which upload, with how many labels per image.</summary>
public sealed record UploadHead(long UploadId, int K);

/// <summary>A dataset as the leaderboard sees it on one request: cheap to read, and the key of every cache.</summary>
public sealed record DatasetHead
{
    public required long Id { get; init; }
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public required long LabelSpaceId { get; init; }
    public required long LabelVersion { get; init; }
    public required string ConsensusRule { get; init; }
    public required long? ShiftOf { get; init; }
    /// <summary>The dataset paired with this one for distribution shift (its shift_of is this dataset).</summary>
    public required long? ShiftedBy { get; init; }
    public required long ImageCount { get; init; }
    /// <summary>Moves whenever the dataset's images change (dataset_image_epochs).</summary>
    public required long ImageEpoch { get; init; }
    public required long SubsetCount { get; init; }
    public required long ReferenceSet { get; init; }
    /// <summary>
    /// When the database server started. A review submit is visible a moment before it is on disk (see
    /// ReviewWriter.WriteAsync), so a crash in that moment can drop it and give its label version to a later write: what is
    /// cached per label version is also cached per server start.
    /// </summary>
    public required DateTimeOffset ServerStarted { get; init; }
    /// <summary>The paper's rule as a setting: an image whose original label was decided wrong is problematic.</summary>
    public required bool OriginalWrongIsProblematic { get; init; }
    /// <summary>The dataset's image sets as "id.revision,..."; moves whenever a set is created or its members change.</summary>
    public required string ImageSetsKey { get; init; }

    /// <summary>What the image data (positions, original classes, subsets, reference labels) depends on.</summary>
    public string ImagesKey => $"{ImageEpoch}/{ImageCount}/{SubsetCount}/{ReferenceSet}";
}

/// <summary>A model with a current prediction set on a dataset.</summary>
public sealed record EntryHead
{
    public required long ModelId { get; init; }
    public required string Slug { get; init; }
    public required string DisplayName { get; init; }
    public required string Kind { get; init; }
    public required string? PaperUrl { get; init; }
    public required string? CodeUrl { get; init; }
    public required long? ParameterCount { get; init; }
    public required string TrainingData { get; init; }
    public required string[] Tags { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public required long UploadId { get; init; }
    public required int K { get; init; }
}

public sealed record SubsetMask(string Name, bool BuiltIn, bool[] Classes);

/// <summary>
/// The images a board grades: an image set of the dataset (Mask over image positions), or every image (Name and Mask
/// null). The same scope applies to every entry, and by name to both datasets of a shift pair.
/// </summary>
public sealed record ImageScope(string? Name, bool[]? Mask, int Revision = 0)
{
    public static readonly ImageScope All = new(null, null);
    public string Key => Name is null ? "" : $"{Name}#{Revision}";
    public int Count(int images) => Mask is null ? images : Mask.Count(m => m);
}

/// <summary>
/// The immutable in-memory image data of a dataset, with the predictions of its uploads as they are loaded (held by
/// <see cref="PredictionsCache"/>, which bounds them: an entry may be gone the next time it is asked for).
/// </summary>
public sealed class DatasetData(DatasetHead head, long[] imageIds, DatasetImages images, string[] wnids, string[] lemmas, SubsetMask[] subsets,
    PredictionsCache.View predictions)
{
    public string ImagesKey { get; } = head.ImagesKey;
    public long[] ImageIds { get; } = imageIds;
    public DatasetImages Images { get; } = images;
    public string[] Wnids { get; } = wnids;
    public string[] Lemmas { get; } = lemmas;
    public SubsetMask[] Subsets { get; } = subsets;
    public Dictionary<long, int> Position { get; } = imageIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
    public Dictionary<string, int> ClassOf { get; } = wnids.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i);
    public PredictionsCache.UploadEntries Uploads { get; } = predictions.Uploads;
    public PredictionsCache.EnsembleEntries Ensembles { get; } = predictions.Ensembles;
}

/// <summary>
/// Loads what grading needs from PostgreSQL by binary COPY and keeps it in memory: a dataset's images (until their
/// count, subsets or reference labels change), each upload's predictions (uploads never change), and the label state
/// at a label version. Everything else is computed from these by the pure engine in Metrics/.
/// </summary>
public sealed class ScoringStore(NpgsqlDataSource db, PredictionsCache predictionsCache, ILogger<ScoringStore> logger)
{
    private readonly ConcurrentDictionary<long, DatasetData> _datasets = new();
    private readonly ConcurrentDictionary<(long Dataset, string ImagesKey, long Version, bool Current, DateTimeOffset ServerStarted, bool WrongOriginals), LabelState> _labels = new();
    private readonly ConcurrentDictionary<(long Dataset, string ImagesKey, long SetId, int Revision), bool[]> _scopes = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    /// <summary>One upload loads at a time, so that concurrent first readers do not each copy it.</summary>
    private readonly SemaphoreSlim _loadingPredictions = new(1, 1);

    public async Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, string slug) =>
        await connection.QuerySingleOrDefaultAsync<DatasetHead>(HeadSql + " where d.slug = @slug", new { slug });

    public async Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, long id) =>
        await connection.QuerySingleOrDefaultAsync<DatasetHead>(HeadSql + " where d.id = @id", new { id });

    /// <summary>Selects <see cref="DatasetHead"/> rows from datasets d; add the where clause.</summary>
    public const string HeadSql =
        """
        select d.id, d.slug, d.name, d.label_space_id, d.label_version, d.consensus_rule, d.shift_of,
               (select s.id from datasets s where s.shift_of = d.id order by s.id limit 1) as shifted_by,
               coalesce((select e.images from dataset_image_epochs e where e.dataset_id = d.id), 0) as image_count,
               coalesce((select e.epoch from dataset_image_epochs e where e.dataset_id = d.id), 0) as image_epoch,
               (select count(*) from subsets s where s.dataset_id = d.id) as subset_count,
               coalesce((select r.id from reference_label_sets r where r.dataset_id = d.id), 0) as reference_set,
               pg_postmaster_start_time() as server_started, d.original_wrong_is_problematic,
               coalesce((select string_agg(s.id || '.' || s.revision, ',' order by s.id) from image_sets s where s.dataset_id = d.id), '') as image_sets_key
        from datasets d
        """;

    public static async Task<EntryHead[]> EntriesAsync(NpgsqlConnection connection, long datasetId) =>
        (await connection.QueryAsync<EntryHead>(
            """
            select m.id as model_id, m.slug, m.display_name, m.kind, m.paper_url, m.code_url, m.parameter_count,
                   m.training_data, m.tags, m.updated_at, ps.upload_id, ps.k
            from prediction_sets ps
            join models m on m.id = ps.model_id
            where ps.dataset_id = @datasetId
            order by m.id
            """,
            new { datasetId })).ToArray();

    /// <summary>
    /// How many of the uploads predict each class as the image's top-1: from memory once every upload is loaded;
    /// until then counted in the database for this one image (an index probe per upload, milliseconds) while the
    /// uploads load in the background. (Loading 100 models' predictions takes seconds: the first review page after a
    /// start does not wait for it.)
    /// </summary>
    public async Task<Dictionary<string, int>> Top1VotesAsync(
        NpgsqlConnection connection, DatasetHead head, IReadOnlyList<UploadHead> uploads, long imageId)
    {
        var votes = new Dictionary<string, int>();
        var loaded = new List<RankedPredictions>(uploads.Count);
        if (!_datasets.TryGetValue(head.Id, out var data) || data.ImagesKey != head.ImagesKey
            || !uploads.All(u => data.Uploads.TryGetValue(u.UploadId, out var p) && Add(loaded, p)))
        {
            LoadInBackground(head, uploads);
            foreach (var (wnid, models) in await connection.QueryAsync<(string, int)>(
                """
                select c.wnid, count(*)::int
                from predictions p
                join label_space_classes c on c.label_space_id = @LabelSpaceId and c.class_index = p.labels[1]
                where p.upload_id = any(@uploads) and p.image_id = @imageId
                group by c.wnid
                """,
                new { head.LabelSpaceId, uploads = uploads.Select(u => u.UploadId).ToArray(), imageId }))
                votes[wnid] = models;
            return votes;
        }
        if (!data.Position.TryGetValue(imageId, out var image)) return votes;
        foreach (var predictions in loaded)
        {
            var top1 = predictions.Top1(image);
            if (top1 >= 0 && top1 < data.Wnids.Length) votes[data.Wnids[top1]] = votes.GetValueOrDefault(data.Wnids[top1]) + 1;
        }
        return votes;
    }

    private static bool Add(List<RankedPredictions> list, RankedPredictions predictions)
    {
        list.Add(predictions);
        return true;
    }

    /// <summary>The datasets whose predictions are loading in the background.</summary>
    private readonly ConcurrentDictionary<long, bool> _backgroundLoads = new();

    /// <summary>Loads a dataset's images and these uploads on a connection of its own, once at a time per dataset.</summary>
    private void LoadInBackground(DatasetHead head, IReadOnlyList<UploadHead> uploads)
    {
        if (!_backgroundLoads.TryAdd(head.Id, true)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await using var connection = await db.OpenConnectionAsync();
                var data = await DataAsync(connection, head);
                foreach (var upload in uploads) await PredictionsAsync(connection, data, upload.UploadId, upload.K);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                logger.LogWarning(e, "Loading the predictions of dataset {Dataset} failed; the next reader tries again", head.Slug);
            }
            finally { _backgroundLoads.TryRemove(head.Id, out _); }
        });
    }

    public async Task<DatasetData> DataAsync(NpgsqlConnection connection, DatasetHead head)
    {
        if (_datasets.TryGetValue(head.Id, out var data) && data.ImagesKey == head.ImagesKey) return data;
        await _loading.WaitAsync();
        try
        {
            if (_datasets.TryGetValue(head.Id, out data) && data.ImagesKey == head.ImagesKey) return data;
            data = await LoadDatasetAsync(connection, head, predictionsCache.ForDataset(head.Id));
            _datasets[head.Id] = data;
            foreach (var key in _labels.Keys.Where(k => k.Dataset == head.Id && k.ImagesKey != head.ImagesKey)) _labels.TryRemove(key, out _);
            return data;
        }
        finally { _loading.Release(); }
    }

    public Task<RankedPredictions> PredictionsAsync(NpgsqlConnection connection, DatasetData data, EntryHead entry) =>
        PredictionsAsync(connection, data, entry.UploadId, entry.K);

    public async Task<RankedPredictions> PredictionsAsync(NpgsqlConnection connection, DatasetData data, long uploadId, int k)
    {
        if (data.Uploads.TryGetValue(uploadId, out var predictions)) return predictions;
        await _loadingPredictions.WaitAsync();
        try
        {
            if (data.Uploads.TryGetValue(uploadId, out predictions)) return predictions;
            predictions = await LoadPredictionsAsync(connection, data, uploadId, k);
            data.Uploads[uploadId] = predictions;
            return predictions;
        }
        finally { _loadingPredictions.Release(); }
    }

    private static async Task<RankedPredictions> LoadPredictionsAsync(NpgsqlConnection connection, DatasetData data, long uploadId, int k)
    {
        var predictions = RankedPredictions.Empty(data.Images.Count, k);
        // COPY takes no parameters; the upload id is a number we format ourselves.
        var sql = $"copy (select image_id, labels from predictions where upload_id = {uploadId.ToString(CultureInfo.InvariantCulture)}) to stdout (format binary)";
        await using (var reader = await connection.BeginBinaryExportAsync(sql))
        {
            while (await reader.StartRowAsync() != -1)
            {
                var imageId = await reader.ReadAsync<long>();
                var labels = await reader.ReadAsync<short[]>();
                if (!data.Position.TryGetValue(imageId, out var i)) continue;
                predictions.Set(i, labels);
            }
        }
        return predictions;
    }

    /// <summary>
    /// The label state at a version: the current one from the derived tables (review_items, image_states), or an earlier
    /// one rebuilt from the events up to it by the consensus rule (an image's flag is its latest flag event up to it).
    /// </summary>
    public async Task<LabelState> LabelsAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, long version)
    {
        var current = version == head.LabelVersion;
        var key = (head.Id, head.ImagesKey, version, current, head.ServerStarted, head.OriginalWrongIsProblematic);
        if (_labels.TryGetValue(key, out var labels)) return labels;
        labels = current ? await CurrentLabelsAsync(connection, head, data) : await LabelsAtAsync(connection, head, data, version);
        if (head.OriginalWrongIsProblematic) labels = labels.WithWrongOriginalsProblematic(data.Images.OriginalClass, out _);
        foreach (var stale in _labels.Keys.Where(k => k.Dataset == head.Id && k.Current && k.Version != version)) _labels.TryRemove(stale, out _);
        if (_labels.Count > 64) _labels.Clear();
        _labels[key] = labels;
        return labels;
    }

    /// <summary>
    /// The members of an image set as a mask over the dataset's image positions, or null when the dataset has no set
    /// of that name. Kept until the set's revision or the dataset's images change.
    /// </summary>
    public async Task<ImageScope?> ScopeAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, string name)
    {
        var set = await connection.QuerySingleOrDefaultAsync<(long Id, int Revision)?>(
            "select id, revision from image_sets where dataset_id = @Id and name = @name", new { head.Id, name });
        if (set is not { } found) return null;
        var key = (head.Id, head.ImagesKey, found.Id, found.Revision);
        if (!_scopes.TryGetValue(key, out var mask))
        {
            mask = new bool[data.Images.Count];
            foreach (var imageId in await connection.QueryAsync<long>(
                "select image_id from image_set_members where image_set_id = @Id", new { found.Id }))
                if (data.Position.TryGetValue(imageId, out var i)) mask[i] = true;
            foreach (var stale in _scopes.Keys.Where(k => k.Dataset == head.Id && k.SetId == found.Id)) _scopes.TryRemove(stale, out _);
            _scopes[key] = mask;
        }
        return new ImageScope(name, mask, found.Revision);
    }

    private static async Task<LabelState> CurrentLabelsAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data)
    {
        var items = new List<(int, short, ItemState)>(data.Images.Count * 4);
        var id = head.Id.ToString(CultureInfo.InvariantCulture);
        var space = head.LabelSpaceId.ToString(CultureInfo.InvariantCulture);
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"""
             copy (select r.image_id, c.class_index::smallint, r.state
                   from review_items r
                   join images i on i.id = r.image_id
                   join label_space_classes c on c.label_space_id = {space} and c.wnid = r.wnid
                   where i.dataset_id = {id} and r.state in ('correct', 'wrong', 'unclear')) to stdout (format binary)
             """))
        {
            while (await reader.StartRowAsync() != -1)
            {
                var imageId = await reader.ReadAsync<long>();
                var cls = await reader.ReadAsync<short>();
                var state = Parse(await reader.ReadAsync<string>());
                if (data.Position.TryGetValue(imageId, out var i)) items.Add((i, cls, state));
            }
        }
        var problematic = new bool[data.Images.Count];
        foreach (var imageId in await connection.QueryAsync<long>(
            "select s.image_id from image_states s join images i on i.id = s.image_id where i.dataset_id = @Id and s.problematic",
            new { head.Id }))
            if (data.Position.TryGetValue(imageId, out var i)) problematic[i] = true;
        return LabelState.Build(data.Images.Count, problematic, items);
    }

    private sealed record EventRow
    {
        public required long ItemId { get; init; }
        public required long ImageId { get; init; }
        public required short ClassIndex { get; init; }
        public required long Id { get; init; }
        public required string Author { get; init; }
        public required string Verdict { get; init; }
        public required bool Adjudication { get; init; }
    }

    private static async Task<LabelState> LabelsAtAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, long version)
    {
        var events = await connection.QueryAsync<EventRow>(
            """
            select e.item_id, r.image_id, c.class_index::smallint as class_index, e.id,
                   coalesce('user:' || e.reviewer_id, 'source:' || e.source_id) as author, e.verdict, e.adjudication
            from verdict_events e
            join review_items r on r.id = e.item_id
            join images i on i.id = r.image_id
            join label_space_classes c on c.label_space_id = @LabelSpaceId and c.wnid = r.wnid
            where i.dataset_id = @Id and e.label_version <= @version
            """,
            new { head.Id, head.LabelSpaceId, version });
        // The rule in force at that version (a vote import switches a dataset to the majority rule, say).
        var rule = await connection.QuerySingleOrDefaultAsync<string?>(
            "select consensus_rule from label_versions where dataset_id = @Id and version = @version", new { head.Id, version }) ?? head.ConsensusRule;
        var items = new List<(int, short, ItemState)>();
        foreach (var item in events.GroupBy(e => e.ItemId))
        {
            var first = item.First();
            if (!data.Position.TryGetValue(first.ImageId, out var i)) continue;
            var state = Parse(Consensus.Decide(item.Select(e => new VerdictEvent(e.Id, e.Author, e.Verdict, e.Adjudication)), rule));
            if (state != ItemState.Pending) items.Add((i, first.ClassIndex, state));
        }
        var problematic = new bool[data.Images.Count];
        foreach (var imageId in await connection.QueryAsync<long>(
            """
            select image_id from (
                select distinct on (f.image_id) f.image_id, f.problematic
                from image_flag_events f join images i on i.id = f.image_id
                where i.dataset_id = @Id and f.label_version <= @version
                order by f.image_id, f.id desc) latest
            where problematic
            """,
            new { head.Id, version }))
            if (data.Position.TryGetValue(imageId, out var i)) problematic[i] = true;
        return LabelState.Build(data.Images.Count, problematic, items);
    }

    private static ItemState Parse(string state) => state switch
    {
        "correct" => ItemState.Correct,
        "wrong" => ItemState.Wrong,
        "unclear" => ItemState.Unclear,
        _ => ItemState.Pending,
    };

    private sealed record SubsetClass
    {
        public required string Name { get; init; }
        public required bool BuiltIn { get; init; }
        public required int? ClassIndex { get; init; }
    }

    private sealed record ClassRow
    {
        public required int ClassIndex { get; init; }
        public required string Wnid { get; init; }
        public required string Lemma { get; init; }
    }

    private static async Task<DatasetData> LoadDatasetAsync(NpgsqlConnection connection, DatasetHead head, PredictionsCache.View predictions)
    {
        var classes = (await connection.QueryAsync<ClassRow>(
            """
            select c.class_index, c.wnid, s.lemmas[1] as lemma
            from label_space_classes c join synsets s on s.wnid = c.wnid
            where c.label_space_id = @LabelSpaceId order by c.class_index
            """,
            new { head.LabelSpaceId })).ToList();
        var classCount = classes.Count == 0 ? 0 : classes[^1].ClassIndex + 1;
        var wnids = new string[classCount];
        var lemmas = new string[classCount];
        foreach (var c in classes) { wnids[c.ClassIndex] = c.Wnid; lemmas[c.ClassIndex] = c.Lemma; }

        var ids = new List<long>((int)head.ImageCount);
        var original = new List<short>((int)head.ImageCount);
        var id = head.Id.ToString(CultureInfo.InvariantCulture);
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"""
             copy (select i.id, c.class_index::smallint
                   from images i
                   join label_space_classes c on c.label_space_id = {head.LabelSpaceId.ToString(CultureInfo.InvariantCulture)} and c.wnid = i.original_wnid
                   where i.dataset_id = {id} order by i.id) to stdout (format binary)
             """))
        {
            while (await reader.StartRowAsync() != -1)
            {
                ids.Add(await reader.ReadAsync<long>());
                original.Add(await reader.ReadAsync<short>());
            }
        }
        var position = ids.Select((imageId, i) => (imageId, i)).ToDictionary(p => p.imageId, p => p.i);

        int[]? referenceStart = null;
        short[]? referenceClass = null;
        if (head.ReferenceSet != 0)
        {
            var sets = new short[ids.Count][];
            await using (var reader = await connection.BeginBinaryExportAsync(
                $"copy (select image_id, class_indices from dataset_reference_labels where dataset_id = {id}) to stdout (format binary)"))
            {
                while (await reader.StartRowAsync() != -1)
                {
                    var imageId = await reader.ReadAsync<long>();
                    var set = await reader.ReadAsync<short[]>();
                    if (position.TryGetValue(imageId, out var i)) sets[i] = set;
                }
            }
            referenceStart = new int[ids.Count + 1];
            for (var i = 0; i < ids.Count; i++) referenceStart[i + 1] = referenceStart[i] + (sets[i]?.Length ?? 0);
            referenceClass = sets.SelectMany(s => s ?? []).ToArray();
        }

        var subsetRows = await connection.QueryAsync<SubsetClass>(
            """
            select s.name, s.built_in, c.class_index
            from subsets s
            left join lateral subset_wnids(s.id) w on true
            left join label_space_classes c on c.label_space_id = @LabelSpaceId and c.wnid = w.wnid
            where s.dataset_id = @Id
            order by s.built_in desc, s.id
            """,
            new { head.Id, head.LabelSpaceId });
        var subsets = subsetRows.GroupBy(r => (r.Name, r.BuiltIn)).Select(g =>
        {
            var mask = new bool[classCount];
            foreach (var r in g) if (r.ClassIndex is { } c) mask[c] = true;
            return new SubsetMask(g.Key.Name, g.Key.BuiltIn, mask);
        }).ToArray();

        return new DatasetData(head, ids.ToArray(), new DatasetImages(classCount, original.ToArray(), referenceStart, referenceClass),
            wnids, lemmas, subsets, predictions);
    }
}
