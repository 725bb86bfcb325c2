using System.Collections.Concurrent;
using System.Globalization;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

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
public sealed class ScoringStore(
    NpgsqlDataSource db, [FromKeyedServices(Database.Scans)] NpgsqlDataSource scans, PredictionsCache predictionsCache, ILogger<ScoringStore> logger)
    : ITop1Votes
{
    private readonly ConcurrentDictionary<long, DatasetData> _datasets = new();
    private readonly ConcurrentDictionary<(long Dataset, string ImagesKey, long Version, bool Current, DateTimeOffset ServerStarted, bool WrongOriginals), LabelState> _labels = new();
    private readonly ConcurrentDictionary<(long Dataset, string ImagesKey, long SetId, int Revision), bool[]> _scopes = new();
    private readonly SemaphoreSlim _loading = new(1, 1);
    /// <summary>One upload loads at a time, so that concurrent first readers do not each copy it.</summary>
    private readonly SemaphoreSlim _loadingPredictions = new(1, 1);

    public Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, string slug) => DatasetHeads.BySlugAsync(connection, slug);

    public Task<DatasetHead?> HeadAsync(NpgsqlConnection connection, long id) => DatasetHeads.ByIdAsync(connection, id);

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

    private readonly ConcurrentDictionary<long, (long Epoch, EntryHead[] Entries)> _entries = new();

    /// <summary>
    /// <see cref="EntriesAsync"/>, kept per dataset while its board epoch stands: the epoch moves at the commit of every
    /// change of its prediction sets and of its models' rows (migration 0021), so a board after a verdict reads one
    /// number instead of a zoo's entries. The epoch is read first: entries read after it are never older than it.
    /// </summary>
    public async Task<EntryHead[]> CurrentEntriesAsync(NpgsqlConnection connection, long datasetId)
    {
        var epoch = await connection.QuerySingleOrDefaultAsync<long?>("select epoch from board_epochs where dataset_id = @datasetId", new { datasetId });
        if (epoch is { } e && _entries.TryGetValue(datasetId, out var known) && known.Epoch == e) return known.Entries;
        var entries = await EntriesAsync(connection, datasetId);
        if (epoch is { } read) _entries[datasetId] = (read, entries);
        return entries;
    }

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
                from unnest(@uploads) u (upload_id)
                cross join lateral prediction_at(u.upload_id, @imageId) p
                join label_space_classes c on c.label_space_id = @LabelSpaceId and c.class_index = p.labels[1]
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
        var predictions = RankedPredictions.Empty(data.Images, k);
        // The packed blocks as stored (migration 0020): k slots per image id from block * BlockSize, -1 where absent.
        // COPY takes no parameters; the upload id is a number we format ourselves.
        var sql = $"copy (select block, k, labels from prediction_blocks where upload_id = {uploadId.ToString(CultureInfo.InvariantCulture)}) to stdout (format binary)";
        await using (var reader = await connection.BeginBinaryExportAsync(sql))
        {
            while (await reader.StartRowAsync() != -1)
            {
                var first = await reader.ReadAsync<long>() * PredictionStore.BlockSize;
                var stride = (int)await reader.ReadAsync<short>();
                var labels = await reader.ReadAsync<short[]>();
                for (var slot = 0; slot * stride < labels.Length; slot++)
                {
                    // Images no longer in the dataset have no position: they drop out here.
                    if (labels[slot * stride] < 0 || !data.Position.TryGetValue(first + slot, out var i)) continue;
                    predictions.Set(i, labels.AsSpan(slot * stride, stride));
                }
            }
        }
        return predictions;
    }

    /// <summary>The label state at a version (<see cref="LabelReader"/>), kept per version, image data and server start.</summary>
    public async Task<LabelState> LabelsAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, long version)
    {
        var current = version == head.LabelVersion;
        var key = (head.Id, head.ImagesKey, version, current, head.ServerStarted, head.OriginalWrongIsProblematic);
        if (_labels.TryGetValue(key, out var labels)) return labels;
        labels = current
            ? await CurrentLabelsAsync(connection, head, data, version)
            : await LabelReader.AtVersionAsync(connection, head.Id, head.LabelSpaceId, head.ConsensusRule, version, data.Position, data.Images.Count);
        if (head.OriginalWrongIsProblematic) labels = labels.WithWrongOriginalsProblematic(data.Images.OriginalClass, out _);
        foreach (var stale in _labels.Keys.Where(k => k.Dataset == head.Id && k.Current && k.Version != version)) _labels.TryRemove(stale, out _);
        if (_labels.Count > 64) _labels.Clear();
        _labels[key] = labels;
        return labels;
    }

    /// <summary>The current label state read last of each dataset, before the wrong-original setting applies to it.</summary>
    private sealed record ReadLabels(string ImagesKey, DateTimeOffset ServerStarted, string Rule, long Version, LabelState Raw);

    private readonly ConcurrentDictionary<long, ReadLabels> _read = new();

    /// <summary>Forgets every label state read, so that the next board reads its labels whole (tests compare the two).</summary>
    public void ForgetLabels()
    {
        _read.Clear();
        _labels.Clear();
    }

    /// <summary>
    /// The current label state: the one read last advanced by the versions since (a verdict reads its few items), or,
    /// after a start, an image change, a rule change or a server restart, read whole.
    /// </summary>
    private async Task<LabelState> CurrentLabelsAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, long version)
    {
        LabelState? raw = null;
        if (_read.TryGetValue(head.Id, out var last) && last.ImagesKey == head.ImagesKey && last.ServerStarted == head.ServerStarted
            && last.Rule == head.ConsensusRule && last.Version <= version)
            raw = await LabelReader.AdvanceAsync(connection, head.Id, head.LabelSpaceId, data.Position, last.Raw, last.Version, version);
        if (raw is null)
        {
            await using var scan = await scans.OpenConnectionAsync();
            raw = await LabelReader.CurrentAsync(scan, head.Id, data.ClassOf, data.Position, data.Images.Count);
        }
        var read = new ReadLabels(head.ImagesKey, head.ServerStarted, head.ConsensusRule, version, raw);
        // Two boards may read at once: the newer read of the same images, start and rule stays.
        _read.AddOrUpdate(head.Id, read, (_, known) =>
            known.ImagesKey == read.ImagesKey && known.ServerStarted == read.ServerStarted && known.Rule == read.Rule && known.Version > read.Version
                ? known
                : read);
        return raw;
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
