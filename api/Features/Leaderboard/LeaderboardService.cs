using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Dapper;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>An entry of a board with its counts: an uploaded model, or an ensemble computed from the entries.</summary>
public sealed record ScoredEntry(EntryHead? Entry, string Slug, string DisplayName, string Kind, int K, RankedPredictions Predictions, ClassCounts Counts)
{
    public bool Computed => Entry is null;
}

/// <summary>Every entry of a dataset counted at one label version on one scope.</summary>
public sealed record ScoredDataset(DatasetHead Head, DatasetData Data, LabelState Labels, long Version, IReadOnlyList<ScoredEntry> Entries, ImageScope Scope)
{
    public SubsetMask? Subset(string name) => Data.Subsets.FirstOrDefault(s => s.Name == name);
}

/// <summary>
/// A computed board and its JSON, serialized once. The statistics that need every image (rank intervals, tests between
/// rows) are computed after the first answer: until they are, Json says so, and Completed holds the board with them.
/// </summary>
public sealed class CachedBoard
{
    private readonly Lazy<byte[]> _json;

    public CachedBoard(LeaderboardResponse board, byte[] json)
    {
        Board = board;
        _json = new Lazy<byte[]>(json);
    }

    /// <summary>A board whose JSON is written when first asked for.</summary>
    public CachedBoard(LeaderboardResponse board, Func<byte[]> json)
    {
        Board = board;
        _json = new Lazy<byte[]>(json, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public LeaderboardResponse Board { get; }
    public byte[] Json => _json.Value;
    public Task<CachedBoard>? Statistics { get; init; }

    /// <summary>The board with its statistics once they are ready, else the first answer.</summary>
    public CachedBoard Latest => Statistics is { IsCompletedSuccessfully: true } done ? done.Result : this;

    private Task<byte[]>? _gzip;

    /// <summary>
    /// The JSON gzipped (a 100-model board is about a tenth the size), once it is ready; null until then: the first
    /// readers after a change get the JSON at once (a zoo board takes longer to gzip than to build), and the first
    /// plain answer starts the gzip once it is sent (<see cref="StartGzip"/>). The representations have their own
    /// tags, and the answer varies by Accept-Encoding.
    /// </summary>
    public byte[]? Gzip => _gzip is { IsCompletedSuccessfully: true } task ? task.Result : null;

    /// <summary>
    /// Starts gzipping the JSON unless that has begun. Called once a plain answer is sent, not while it is: on two
    /// cores the compression took a core from sending the first answer after a zoo verdict (about 1 ms of its 2 MB).
    /// </summary>
    public void StartGzip() => LazyInitializer.EnsureInitialized(ref _gzip, () => Task.Run(() =>
    {
        // Into a pooled buffer as large as the JSON (deflate at worst adds a few bytes per block), then copied out at its
        // length: a growing stream made four large arrays per zoo board (2.4 MB), and large arrays bring on full collections.
        var json = Json;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(json.Length + json.Length / 100 + 1024);
        try
        {
            var output = new MemoryStream(buffer);
            using (var zip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) zip.Write(json);
            return buffer.AsSpan(0, (int)output.Position).ToArray();
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
    }));

    private string? _tag;

    /// <summary>
    /// The entity tag of this answer: a hash of its JSON, so two processes that computed the same board agree; the
    /// gzipped bytes are another representation and get their own tag. XXH128, not SHA-256: a tag names a version
    /// and protects nothing, and SHA-256 took 1.4 ms of the first answer after a verdict on a zoo's 2 MB (XXH128 0.1).
    /// </summary>
    public string ETag(bool gzip)
    {
        _tag ??= Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(Json).AsSpan(0, 12));
        return gzip ? $"\"{_tag}-gz\"" : $"\"{_tag}\"";
    }
}

/// <summary>The parameters of a board.</summary>
/// <param name="ImageSet">The image set asked for: null for the dataset's default (its 'annotated' set, else every
/// image), 'all' for every image, or a set's name; it applies by name to the shifted dataset too.</param>
/// <param name="Fit">logit (default), probit or linear: the space of the shift fit.</param>
/// <param name="FitOn">model (default: kind model) or non-human (every uploaded entry that is not human).</param>
public sealed record BoardQuery(string Subset, string Metric, MultiLabelDefinition Definition, double Alpha, long? Version,
    string? ImageSet = null, string Fit = "logit", string FitOn = "model");

/// <summary>
/// Computes boards from the in-memory data of <see cref="ScoringStore"/> and caches them by everything they depend on:
/// the datasets' label versions, images, subsets, image sets and reference labels, the current upload of every entry,
/// the entries' metadata and the parameters. A cached board costs one small query.
/// </summary>
/// <summary>A board, or none when the dataset has no image set of the name asked for.</summary>
public sealed record BoardOutcome(CachedBoard? Board, bool MissingImageSet = false);

public sealed class LeaderboardService(
    NpgsqlDataSource db, ScoringStore store, IOptions<JsonOptions> json, IOptions<RelabelOptions> options, ILogger<LeaderboardService> logger)
{
    public const string HumanMajority = "human-majority";
    public const string ModelMajority = "model-majority";

    private readonly ConditionalWeakTable<LabelState, ConcurrentDictionary<string, ClassCounts>> _counts = new();
    private readonly BoardJson _json = new(json.Value.SerializerOptions);
    // Boards are bounded by size too: a zoo board is 1.7 MB of JSON and several times that in objects, and every verdict
    // makes a new one (200 of them held the API above a gigabyte).
    private readonly BoundedCache<CachedBoard> _boards = new(200, BoardBytes, MaxBoardBytes);
    private readonly BoundedCache<CachedBoard> _byFingerprint = new(200, BoardBytes, MaxBoardBytes);

    /// <summary>What the cached boards may hold, estimated by <see cref="BoardBytes"/>.</summary>
    private const long MaxBoardBytes = 160L << 20;

    /// <summary>A board's memory, roughly: its JSON, and the objects it was serialized from (a few times its size).</summary>
    private static long BoardBytes(CachedBoard board) => 4L * board.Json.Length;
    private readonly BoundedCache<Task<RowStatistics?>> _rowStatistics = new(100);
    // The newest board of each line (dataset, subset, metric, definition, scope at the current labels); under its own lock.
    private readonly Dictionary<string, Newest> _lines = new();

    /// <summary>The statistics key of a line's newest board, and what stops its bootstrap once a newer one arrives.</summary>
    /// <param name="Boards">The boards made at that key: they go from the caches once a newer key replaces it.</param>
    private sealed record Newest(string Key, CancellationTokenSource Cancel, List<CachedBoard> Boards);
    private readonly BoundedCache<string> _seenVariants = new(10_000);
    private readonly SemaphoreSlim _computing = new(1, 1);
    // The bootstraps run one at a time beside the boards, so a burst of new variants queues here, not in front of boards.
    private readonly SemaphoreSlim _statistics = new(1, 1);
    // Computing a variant costs a full pass over every entry; a client asking for many distinct ones (random alphas or
    // versions, say) would keep the cores busy for everyone. Each client gets a bucket of them; cached boards are free.
    private readonly PartitionedRateLimiter<string> _variants = PartitionedRateLimiter.Create<string, string>(client =>
        RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.Value.BoardVariantBurst),
            TokensPerPeriod = Math.Max(1, options.Value.BoardVariantsPerMinute),
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public NpgsqlDataSource Db => db;
    public ScoringStore Store => store;

    /// <summary>Forgets every computed board and count (the loaded data stays, keyed by what it depends on).</summary>
    public void Clear()
    {
        _boards.Clear();
        _byFingerprint.Clear();
        _latest.Clear();
        _counts.Clear();
        _rows.Clear();
    }

    /// <summary>
    /// Everything a board of the dataset depends on, for it and its shifted partner: the dataset rows' xmin (any update:
    /// label version, rule, settings), their board epochs (migration 0021: triggers move them with images, subsets, image
    /// sets, reference labels, prediction sets and the entries' metadata) and the server's start (see
    /// <see cref="DatasetHead.ServerStarted"/>).
    /// A few primary-key reads, so a conditional GET costs well under a millisecond of database time. Null when the
    /// dataset does not exist.
    /// </summary>
    public static Task<string?> FingerprintAsync(NpgsqlConnection connection, string slug) =>
        connection.QuerySingleOrDefaultAsync<string?>(
            """
            select string_agg(d.id || ':' || d.xmin || ':' || coalesce(e.epoch, 0), '|' order by d.id <> o.id) || '@' || pg_postmaster_start_time()
            from datasets o
            join datasets d on d.id = o.id or d.id = (select min(x.id) from datasets x where x.shift_of = o.id)
            left join board_epochs e on e.dataset_id = d.id
            where o.slug = @slug
            group by o.id
            """,
            new { slug });

    public CachedBoard? Cached(string fingerprint, BoardQuery query) => _byFingerprint.Get(FastKey(fingerprint, query));

    public void Remember(string fingerprint, BoardQuery query, CachedBoard board) => _byFingerprint.Set(FastKey(fingerprint, query), board);

    private static string FastKey(string fingerprint, BoardQuery q) =>
        $"{fingerprint}|{q.Subset}|{q.Metric}|{q.Definition.Average}|{q.Definition.UnclearCountsCorrect}|{q.Alpha}|{q.Version}|{q.ImageSet}|{q.Fit}|{q.FitOn}";

    /// <summary>
    /// The scope a request asks for on a dataset: null asks for the default (the 'annotated' set when the dataset has
    /// one, else every image), 'all' for every image. Null (with Missing) when the dataset has no set of that name.
    /// </summary>
    public async Task<(ImageScope? Scope, bool Default)> ScopeAsync(NpgsqlConnection connection, DatasetHead head, DatasetData data, string? requested)
    {
        if (requested == Datasets.ImageSetsApi.All) return (ImageScope.All, false);
        if (requested is null)
        {
            var annotated = await store.ScopeAsync(connection, head, data, Datasets.ImageSetsApi.Annotated);
            return (annotated ?? ImageScope.All, annotated is not null);
        }
        return (await store.ScopeAsync(connection, head, data, requested), false);
    }

    public async Task<ScoredDataset> ScoreAsync(NpgsqlConnection connection, DatasetHead head, EntryHead[] entries, long version, ImageScope scope,
        ServerTiming? timing = null)
    {
        var data = await store.DataAsync(connection, head);
        timing?.Mark("data");
        var labels = await store.LabelsAsync(connection, head, data, version);
        timing?.Mark("labels");
        var counts = _counts.GetValue(labels, _ => new ConcurrentDictionary<string, ClassCounts>());
        var counter = new Counter(data, labels, counts, scope, Basis(head, data, labels));
        var predictions = new RankedPredictions[entries.Length];
        for (var i = 0; i < entries.Length; i++) predictions[i] = await store.PredictionsAsync(connection, data, entries[i]);
        timing?.Mark("predictions");
        // Counting is independent per entry: spread it over the cores.
        var entryCounts = new ClassCounts[entries.Length];
        counter.FindChanges();
        // One thread per core: the pool may hold more (it had added some while they waited), and they only shared them.
        Parallel.For(0, entries.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => entryCounts[i] = counter.Get("u" + entries[i].UploadId, predictions[i]));
        var scored = entries.Select((entry, i) => new ScoredEntry(
            entry, entry.Slug, entry.DisplayName, entry.Kind, entry.K, predictions[i], entryCounts[i])).ToList();
        AddMajority(scored, data, counter, HumanMajority, "Human majority vote", e => e.Kind == "human");
        AddMajority(scored, data, counter, ModelMajority, "Model majority vote", e => e.Kind is "model" or "model-extra-data");
        if (version == head.LabelVersion) _latest[head.Id] = new CountedLabels(data, labels, counts);
        timing?.Mark("count");
        return new ScoredDataset(head, data, labels, version, scored, scope);
    }

    /// <summary>The label state of a dataset whose counts were made last, and those counts (by entry and scope).</summary>
    private sealed record CountedLabels(DatasetData Data, LabelState Labels, ConcurrentDictionary<string, ClassCounts> Counts);

    private readonly ConcurrentDictionary<long, CountedLabels> _latest = new();

    /// <summary>The counts to start from for another label state of the same images, if any were made.</summary>
    private CountedLabels? Basis(DatasetHead head, DatasetData data, LabelState labels) =>
        _latest.TryGetValue(head.Id, out var basis) && ReferenceEquals(basis.Data, data) && !ReferenceEquals(basis.Labels, labels) ? basis : null;

    /// <summary>
    /// An entry's counts under a label state: made before, or re-graded on the images that changed since the basis (a
    /// verdict changes a few images; see <see cref="Scoring.Recount"/>), or counted over every image.
    /// </summary>
    private sealed class Counter(DatasetData data, LabelState labels, ConcurrentDictionary<string, ClassCounts> counts, ImageScope scope, CountedLabels? basis)
    {
        // The images that changed, and whether a flag among them did: the same for every entry (after a rule change,
        // the flags were a pass over most images that each entry made again).
        private readonly Lazy<(int[] Images, bool Flags)> _changed = new(() =>
        {
            var images = labels.ChangedSince(basis!.Labels) ?? LabelState.ChangedImages(basis.Labels, labels);
            return (images, Scoring.FlagsChanged(basis.Labels, labels, images, scope.Mask));
        });

        /// <summary>
        /// Finds the changed images before the entries are counted in parallel: found by the first entry, it held the
        /// others' threads waiting, and the thread pool added threads (7 to 27 took part in one count) that then shared
        /// the two cores.
        /// </summary>
        public void FindChanges()
        {
            if (basis is not null) _ = _changed.Value;
        }

        public ClassCounts Get(string entryKey, RankedPredictions predictions) =>
            counts.GetOrAdd(entryKey + ":scope:" + scope.Key, key =>
                basis is not null && basis.Counts.TryGetValue(key, out var previous)
                    ? Scoring.Recount(previous, data.Images, basis.Labels, labels, predictions, _changed.Value.Images, scope.Mask, _changed.Value.Flags)
                    : Scoring.Count(data.Images, labels, predictions, scope.Mask));
    }

    private static void AddMajority(List<ScoredEntry> scored, DatasetData data, Counter counter, string slug, string name, Func<EntryHead, bool> member)
    {
        var members = scored.Where(s => s.Entry is { } e && member(e)).ToList();
        if (members.Count < 2) return;
        var key = slug + ":" + string.Join(',', members.Select(m => m.Entry!.UploadId));
        var predictions = data.Ensembles.GetOrAdd(key, _ => Scoring.Majority(members.Select(m => m.Predictions).ToList(), data.Images.Count, data.Images.ClassCount));
        scored.Add(new ScoredEntry(null, slug, $"{name} ({members.Count})", "ensemble", 1, predictions, counter.Get(key, predictions)));
    }

    /// <summary>
    /// Whether a client may have a board at this alpha and version. Those two take endless values, so a client gets a
    /// bucket of distinct ones (<see cref="RelabelOptions.BoardVariantsPerMinute"/>); one it had recently is free again,
    /// and boards at the default alpha and the current version are never limited. Checked before any database work, so
    /// a flood of refusals costs little.
    /// </summary>
    public bool AllowVariant(string client, double? alpha, long? version, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (alpha is null && version is null) return true;
        var seen = $"{client}|{alpha}|{version}";
        if (_seenVariants.Get(seen) is not null) return true;
        using var lease = _variants.AttemptAcquire(client);
        if (!lease.IsAcquired)
        {
            retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
            return false;
        }
        _seenVariants.Set(seen, seen);
        return true;
    }

    /// <summary>
    /// The board of a dataset, from the cache when nothing it depends on changed; identical requests that arrive
    /// together share one computation (the second finds the first's board).
    /// </summary>
    public async Task<BoardOutcome> BoardAsync(NpgsqlConnection connection, DatasetHead head, BoardQuery query, ServerTiming? timing = null)
    {
        var entries = await store.CurrentEntriesAsync(connection, head.Id);
        DatasetHead? shifted = head.ShiftedBy is { } shiftedId ? await store.HeadAsync(connection, shiftedId) : null;
        var shiftedEntries = shifted is null ? [] : await store.CurrentEntriesAsync(connection, shifted.Id);
        var key = string.Join('|',
            Key(head, entries), shifted is null ? "-" : Key(shifted, shiftedEntries),
            query.Subset, query.Metric, query.Definition.Average, query.Definition.UnclearCountsCorrect, query.Alpha, query.Version,
            query.ImageSet, query.Fit, query.FitOn);
        timing?.Mark("entries");
        if (_boards.Get(key) is { } board) return new BoardOutcome(board);

        await _computing.WaitAsync();
        try
        {
            timing?.Mark("queue");
            if (_boards.Get(key) is { } again) return new BoardOutcome(again);
            var watch = Stopwatch.StartNew();
            var data = await store.DataAsync(connection, head);
            var (scope, isDefault) = await ScopeAsync(connection, head, data, query.ImageSet);
            if (scope is null) return new BoardOutcome(null, MissingImageSet: true);
            var statisticsKey = string.Join('|', Key(head, entries), query.Subset, query.Metric, query.Definition.Average,
                query.Definition.UnclearCountsCorrect, query.Version, scope.Key);
            // Boards of the current labels replace each other as verdicts arrive: only the newest one's statistics are due.
            var line = query.Version is null
                ? string.Join('|', head.Id, query.Subset, query.Metric, query.Definition.Average, query.Definition.UnclearCountsCorrect, scope.Key)
                : null;
            // Before counting: the bootstrap of the board this one replaces would hold a core that counting needs.
            var cancel = Supersede(line, statisticsKey);
            var scored = await ScoreAsync(connection, head, entries, query.Version ?? head.LabelVersion, scope, timing);
            // An earlier version applies to the dataset asked for; the shifted dataset is shown at its current labels, on
            // its image set of the same name (none: no shifted columns, and the scope says so).
            ScoredDataset? scoredShift = null;
            if (shifted is not null)
            {
                var shiftedData = await store.DataAsync(connection, shifted);
                var shiftedScope = scope.Name is null ? ImageScope.All : await store.ScopeAsync(connection, shifted, shiftedData, scope.Name);
                if (shiftedScope is not null) scoredShift = await ScoreAsync(connection, shifted, shiftedEntries, shifted.LabelVersion, shiftedScope, timing);
            }
            var rowsKey = RowsKey(head, query);
            var rows = _rows.Get(rowsKey) ?? new RowCache();
            _rows.Set(rowsKey, rows);
            var built = Boards.Build(scored, scoredShift, query, DescribeScope(scored, shifted, scoredShift, query, isDefault), watch, rows);
            timing?.Mark("build");
            board = new CachedBoard(built, _json.Serialize(built)) { Statistics = StatisticsAsync(built, scored, query, statisticsKey, cancel) };
            timing?.Mark("serialize");
            _boards.Set(key, board);
            if (line is not null)
                lock (_lines)
                    if (_lines.GetValueOrDefault(line) is { } newest && newest.Key == statisticsKey) newest.Boards.Add(board);
            return new BoardOutcome(board);
        }
        finally { _computing.Release(); }
    }

    /// <summary>The rows of the boards of one query line, kept for the next board of that line (see <see cref="RowCache"/>).</summary>
    private readonly BoundedCache<RowCache> _rows = new(64);

    private static string RowsKey(DatasetHead head, BoardQuery q) =>
        $"{head.Id}|{q.Subset}|{q.Metric}|{q.Definition.Average}|{q.Definition.UnclearCountsCorrect}|{q.Alpha}";

    /// <summary>
    /// Makes a board the newest of its line (dataset, subset, metric, definition, scope at the current labels; null for
    /// an earlier version): the bootstrap of the line's board before, running or waiting, stops (a verdict makes it
    /// wasted work, and at zoo scale it holds a core). The token stops this board's bootstrap in turn.
    /// </summary>
    private CancellationToken Supersede(string? line, string key)
    {
        if (line is null) return CancellationToken.None;
        lock (_lines)
        {
            var newest = _lines.GetValueOrDefault(line);
            if (newest?.Key != key)
            {
                if (newest is not null)
                {
                    newest.Cancel.Cancel();
                    // Its boards answer for labels that are gone: no request finds them again (the fingerprint and the
                    // label version moved), and each holds megabytes at zoo scale that the next boards would rather reuse.
                    foreach (var old in newest.Boards) { _boards.Remove(old); _byFingerprint.Remove(old); }
                }
                _lines[line] = newest = new Newest(key, new CancellationTokenSource(), []);
            }
            return newest.Cancel.Token;
        }
    }

    private static readonly TimeSpan StatisticsDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The rank intervals and row tests, in the background: the first answer does not wait for them. Boards that differ
    /// only in alpha or the fit share one computation.
    /// </summary>
    private Task<CachedBoard> StatisticsAsync(LeaderboardResponse board, ScoredDataset scored, BoardQuery query, string key, CancellationToken cancel)
    {
        Task<RowStatistics?> shared;
        lock (_rowStatistics)
        {
            if (_rowStatistics.Get(key) is not { IsFaulted: false } known)
                _rowStatistics.Set(key, known = Task.Run(async () =>
                {
                    // The board's first answer goes out before the bootstrap takes a core (and a verdict arriving
                    // meanwhile cancels it before it starts).
                    try { await Task.Delay(StatisticsDelay, cancel); }
                    catch (OperationCanceledException) { return null; }
                    await _statistics.WaitAsync();
                    try
                    {
                        return cancel.IsCancellationRequested ? null : Boards.ComputeStatistics(board, scored, query, cancel);
                    }
                    catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return null; }
                    finally { _statistics.Release(); }
                }));
            shared = known;
        }
        return shared.ContinueWith(t =>
        {
            if (t is { IsCompletedSuccessfully: true, Result: null })
            {
                var superseded = board with { Statistics = board.Statistics with { Status = "superseded" } };
                // Written only if asked for: a superseded board is rarely read again, and this runs beside the next one.
                return new CachedBoard(superseded, () => _json.Serialize(superseded));
            }
            if (t is { IsCompletedSuccessfully: true, Result: { } statistics })
            {
                var complete = Boards.WithStatistics(board, statistics);
                return new CachedBoard(complete, _json.Serialize(complete));
            }
            // The board stays right without them; the answer says they failed rather than computing forever.
            logger.LogError(t.Exception, "The statistics of a board of {Dataset} failed", board.Dataset);
            var failed = board with { Statistics = board.Statistics with { Status = "failed" } };
            return new CachedBoard(failed, () => _json.Serialize(failed));
        }, TaskScheduler.Default);
    }

    internal static BoardScope DescribeScope(ScoredDataset scored, DatasetHead? shiftedHead, ScoredDataset? shifted, BoardQuery query, bool isDefault)
    {
        var images = scored.Data.Images;
        var mask = scored.Subset(query.Subset)!.Classes;
        var scope = scored.Scope;
        long inScope = 0, graded = 0, problematic = 0;
        for (var i = 0; i < images.Count; i++)
        {
            if (scope.Mask is not null && !scope.Mask[i]) continue;
            inScope++;
            if (!mask[images.OriginalClass[i]]) continue;
            if (scored.Labels.Problematic[i]) problematic++; else graded++;
        }
        var name = scope.Name;
        var text = (name is null ? "Every image of the dataset" : $"The image set '{name}'{(isDefault ? " (the dataset's default scope)" : "")}") +
                   $": {inScope:N0} images, {graded:N0} graded on this subset, {problematic:N0} left out as problematic.";
        if (shiftedHead is not null)
            text += shifted is null
                ? $" {shiftedHead.Slug} has no image set '{name}': the shifted columns are empty (imageSet=all compares every image)."
                : $" {shiftedHead.Slug} is graded on {(name is null ? "every image" : $"its image set '{name}'")} too.";
        return new BoardScope
        {
            ImageSet = name,
            Default = isDefault,
            Images = inScope,
            Graded = graded,
            Problematic = problematic,
            WrongOriginalIsProblematic = scored.Head.OriginalWrongIsProblematic,
            WrongOriginalImages = scored.Head.OriginalWrongIsProblematic ? scored.Labels.WrongOriginals : null,
            ShiftedImages = shifted is null ? null : shifted.Scope.Count(shifted.Data.Images.Count),
            Description = text,
        };
    }

    private static string Key(DatasetHead head, EntryHead[] entries) =>
        $"{head.Id}:{head.ImagesKey}:{head.LabelVersion}@{head.ServerStarted.UtcTicks}:{head.ConsensusRule}:{head.OriginalWrongIsProblematic}:{head.ImageSetsKey}:" +
        string.Join(',', entries.Select(e => e.UploadId)) + ":" +
        (entries.Length == 0 ? 0 : entries.Max(e => e.UpdatedAt.UtcTicks));
}

/// <summary>
/// A cache of at most Capacity values (and, with a weight, at most MaxWeight in all) that forgets the least recently used
/// one first; the newest value always stays.
/// </summary>
public sealed class BoundedCache<T>(int capacity, Func<T, long>? weight = null, long maxWeight = long.MaxValue) where T : class
{
    private long _weight;

    private readonly Dictionary<string, LinkedListNode<(string Key, T Value)>> _index = new();
    private readonly LinkedList<(string Key, T Value)> _order = new();
    private readonly Lock _lock = new();

    public T? Get(string key)
    {
        lock (_lock)
        {
            if (!_index.TryGetValue(key, out var node)) return null;
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Value;
        }
    }

    public void Set(string key, T value)
    {
        lock (_lock)
        {
            if (_index.Remove(key, out var old))
            {
                _order.Remove(old);
                _weight -= weight?.Invoke(old.Value.Value) ?? 0;
            }
            _index[key] = _order.AddFirst((key, value));
            _weight += weight?.Invoke(value) ?? 0;
            while (_index.Count > capacity || (_weight > maxWeight && _index.Count > 1))
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _index.Remove(last.Value.Key);
                _weight -= weight?.Invoke(last.Value.Value) ?? 0;
            }
        }
    }

    /// <summary>Forgets every key that holds this value.</summary>
    public void Remove(T value)
    {
        lock (_lock)
            for (var node = _order.First; node is not null;)
            {
                var next = node.Next;
                if (ReferenceEquals(node.Value.Value, value))
                {
                    _order.Remove(node);
                    _index.Remove(node.Value.Key);
                    _weight -= weight?.Invoke(value) ?? 0;
                }
                node = next;
            }
    }

    public void Clear()
    {
        lock (_lock) { _index.Clear(); _order.Clear(); _weight = 0; }
    }
}
