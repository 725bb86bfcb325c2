using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>An entry of a board with its counts: an uploaded model, or an ensemble computed from the entries.</summary>
public sealed record ScoredEntry(EntryHead? Entry, string Slug, string DisplayName, string Kind, int K, RankedPredictions Predictions, ClassCounts Counts)
{
    public bool Computed => Entry is null;
}

/// <summary>Every entry of a dataset counted at one label version.</summary>
public sealed record ScoredDataset(DatasetHead Head, DatasetData Data, LabelState Labels, long Version, IReadOnlyList<ScoredEntry> Entries)
{
    public SubsetMask? Subset(string name) => Data.Subsets.FirstOrDefault(s => s.Name == name);
}

/// <summary>A computed board and its JSON, serialized once.</summary>
public sealed record CachedBoard(LeaderboardResponse Board, byte[] Json);

/// <summary>The parameters of a board.</summary>
/// <param name="ImageSet">Restrict every entry to the images of this image set of the dataset (a fair comparison of
/// humans and models on the images the humans labeled); its members are <paramref name="ImageSetIds"/>.</param>
public sealed record BoardQuery(string Subset, string Metric, MultiLabelDefinition Definition, double Alpha, long? Version,
    string? ImageSet = null, long[]? ImageSetIds = null);

/// <summary>
/// Computes boards from the in-memory data of <see cref="ScoringStore"/> and caches them by everything they depend on:
/// the datasets' label versions, images, subsets and reference labels, the current upload of every entry, the
/// entries' metadata and the parameters. A cached board costs two small queries.
/// </summary>
public sealed class LeaderboardService(NpgsqlDataSource db, ScoringStore store, IOptions<JsonOptions> json)
{
    public const string HumanMajority = "human-majority";
    public const string ModelMajority = "model-majority";

    private readonly ConditionalWeakTable<LabelState, ConcurrentDictionary<string, ClassCounts>> _counts = new();
    private readonly ConcurrentDictionary<string, CachedBoard> _boards = new();
    private readonly SemaphoreSlim _computing = new(1, 1);

    public NpgsqlDataSource Db => db;
    public ScoringStore Store => store;

    private readonly ConcurrentDictionary<string, CachedBoard> _byFingerprint = new();

    /// <summary>Forgets every computed board (the loaded data stays, keyed by what it depends on).</summary>
    public void Clear()
    {
        _boards.Clear();
        _byFingerprint.Clear();
    }

    /// <summary>
    /// Everything a board of the dataset depends on, for it and its shifted partner, in one round trip: label version
    /// (with the server's start, see <see cref="DatasetHead.ServerStarted"/>), consensus rule, image and subset counts,
    /// reference set, current uploads and the entries' last metadata change.
    /// Null when the dataset does not exist.
    /// </summary>
    public static Task<string?> FingerprintAsync(NpgsqlConnection connection, string slug) =>
        connection.QuerySingleOrDefaultAsync<string?>(
            """
            select string_agg(concat_ws(':', d.id, d.label_version, pg_postmaster_start_time(), d.consensus_rule,
                       (select e.epoch from dataset_image_epochs e where e.dataset_id = d.id),
                       (select count(*) from subsets s where s.dataset_id = d.id),
                       (select r.id from reference_label_sets r where r.dataset_id = d.id),
                       (select string_agg(ps.upload_id::text, ',' order by ps.model_id) from prediction_sets ps where ps.dataset_id = d.id),
                       (select max(m.updated_at) from prediction_sets ps join models m on m.id = ps.model_id where ps.dataset_id = d.id)),
                   '|' order by d.id <> o.id)
            from datasets o
            join datasets d on d.id = o.id or d.id = (select min(x.id) from datasets x where x.shift_of = o.id)
            where o.slug = @slug
            """,
            new { slug });

    public CachedBoard? Cached(string fingerprint, BoardQuery query) =>
        _byFingerprint.GetValueOrDefault(FastKey(fingerprint, query));

    public void Remember(string fingerprint, BoardQuery query, CachedBoard board)
    {
        if (_byFingerprint.Count > 100) _byFingerprint.Clear();
        _byFingerprint[FastKey(fingerprint, query)] = board;
    }

    private static string FastKey(string fingerprint, BoardQuery q) =>
        $"{fingerprint}|{q.Subset}|{q.Metric}|{q.Definition.Average}|{q.Definition.UnclearCountsCorrect}|{q.Alpha}|{q.Version}";

    public async Task<ScoredDataset> ScoreAsync(
        NpgsqlConnection connection, DatasetHead head, EntryHead[] entries, long version, long[]? imageSetIds = null)
    {
        var data = await store.DataAsync(connection, head);
        var labels = await store.LabelsAsync(connection, head, data, version);
        var counts = _counts.GetValue(labels, _ => new ConcurrentDictionary<string, ClassCounts>());
        // An image set keeps each entry's predictions on its images only: the others count as not predicted.
        bool[]? keep = null;
        var setKey = "";
        if (imageSetIds is not null)
        {
            keep = new bool[data.ImageIds.Length];
            foreach (var id in imageSetIds)
                if (data.Position.TryGetValue(id, out var position)) keep[position] = true;
            setKey = ":set:" + string.Join(',', imageSetIds.Order());
        }
        var predictions = new RankedPredictions[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            var loaded = await store.PredictionsAsync(connection, data, entries[i]);
            predictions[i] = keep is null ? loaded : Restrict(loaded, keep);
        }
        // Counting is independent per entry: spread it over the cores.
        Parallel.For(0, entries.Length, i =>
            counts.GetOrAdd("u" + entries[i].UploadId + setKey, _ => Scoring.Count(data.Images, labels, predictions[i])));
        var scored = entries.Select((entry, i) => new ScoredEntry(
            entry, entry.Slug, entry.DisplayName, entry.Kind, entry.K, predictions[i], counts["u" + entry.UploadId + setKey])).ToList();
        AddMajority(scored, data, labels, counts, HumanMajority, "Human majority vote", e => e.Kind == "human", setKey);
        AddMajority(scored, data, labels, counts, ModelMajority, "Model majority vote", e => e.Kind is "model" or "model-extra-data", setKey);
        return new ScoredDataset(head, data, labels, version, scored);
    }

    private static RankedPredictions Restrict(RankedPredictions predictions, bool[] keep)
    {
        var ranked = (short[])predictions.Ranked.Clone();
        for (var i = 0; i < keep.Length; i++)
            if (!keep[i]) Array.Fill(ranked, (short)-1, i * RankedPredictions.Width, RankedPredictions.Width);
        return new RankedPredictions(ranked, predictions.K);
    }

    private static void AddMajority(List<ScoredEntry> scored, DatasetData data, LabelState labels,
        ConcurrentDictionary<string, ClassCounts> counts, string slug, string name, Func<EntryHead, bool> member, string setKey)
    {
        var members = scored.Where(s => s.Entry is { } e && member(e)).ToList();
        if (members.Count < 2) return;
        var key = slug + ":" + string.Join(',', members.Select(m => m.Entry!.UploadId)) + setKey;
        var predictions = data.Ensembles.GetOrAdd(key, _ => Scoring.Majority(members.Select(m => m.Predictions).ToList(), data.Images.Count, data.Images.ClassCount));
        var c = counts.GetOrAdd(key, _ => Scoring.Count(data.Images, labels, predictions));
        scored.Add(new ScoredEntry(null, slug, $"{name} ({members.Count})", "ensemble", 1, predictions, c));
    }

    /// <summary>The board of a dataset, from the cache when nothing it depends on changed.</summary>
    public async Task<CachedBoard> BoardAsync(NpgsqlConnection connection, DatasetHead head, BoardQuery query)
    {
        var entries = await ScoringStore.EntriesAsync(connection, head.Id);
        DatasetHead? shifted = head.ShiftedBy is { } shiftedId ? await store.HeadAsync(connection, shiftedId) : null;
        var shiftedEntries = shifted is null ? [] : await ScoringStore.EntriesAsync(connection, shifted.Id);
        var key = string.Join('|',
            Key(head, entries), shifted is null ? "-" : Key(shifted, shiftedEntries),
            query.Subset, query.Metric, query.Definition.Average, query.Definition.UnclearCountsCorrect, query.Alpha, query.Version,
            query.ImageSet, query.ImageSetIds is null ? "" : string.Join(',', query.ImageSetIds.Order()));
        if (_boards.TryGetValue(key, out var board)) return board;

        await _computing.WaitAsync();
        try
        {
            if (_boards.TryGetValue(key, out board)) return board;
            var watch = Stopwatch.StartNew();
            var scored = await ScoreAsync(connection, head, entries, query.Version ?? head.LabelVersion, query.ImageSetIds);
            // An earlier version applies to the dataset asked for; the shifted dataset is shown at its current labels.
            var scoredShift = shifted is null ? null : await ScoreAsync(connection, shifted, shiftedEntries, shifted.LabelVersion);
            var built = Boards.Build(scored, scoredShift, query, watch);
            board = new CachedBoard(built, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(built, json.Value.SerializerOptions));
            if (_boards.Count > 100) _boards.Clear();
            _boards[key] = board;
            return board;
        }
        finally { _computing.Release(); }
    }

    private static string Key(DatasetHead head, EntryHead[] entries) =>
        $"{head.Id}:{head.ImagesKey}:{head.LabelVersion}@{head.ServerStarted.UtcTicks}:{head.ConsensusRule}:" +
        string.Join(',', entries.Select(e => e.UploadId)) + ":" +
        (entries.Length == 0 ? 0 : entries.Max(e => e.UpdatedAt.UtcTicks));
}
