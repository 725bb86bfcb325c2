using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Predictions;

/// <summary>
/// The predictions the leaderboard holds in memory (each upload's ranked labels by image position, and the majority
/// ensembles computed from them), under one budget for the whole process. An upload that another replaced is dropped
/// when its follow-up runs here (<see cref="EvictUpload"/>); past the budget (Relabel:PredictionsMemoryMb) the least
/// recently used entries go. Everything here can be loaded or computed again, so dropping is always safe: a reader that
/// holds an entry keeps it alive until it is done with it.
/// Entries belong to a <see cref="View"/>: the positions of one dataset's images at one moment (the leaderboard's
/// DatasetData); a new view of a dataset drops the entries of its older ones.
/// </summary>
public sealed class PredictionsCache(IOptions<RelabelOptions> options)
{
    /// <summary>An upload (by id) or an ensemble (by name) of one view.</summary>
    private readonly record struct Key(long View, long UploadId, string? Ensemble);

    private sealed class Entry(RankedPredictions value, long bytes)
    {
        public RankedPredictions Value { get; } = value;
        public long Bytes { get; } = bytes;
        public long LastUsed = Stopwatch.GetTimestamp();
    }

    private readonly ConcurrentDictionary<Key, Entry> _entries = new();
    private readonly ConcurrentDictionary<long, long> _viewOfDataset = new();
    private readonly object _evicting = new();
    private long _bytes;
    private long _views;

    public long BudgetBytes { get; } = (long)(options.Value.PredictionsMemoryMb * 1024 * 1024);

    /// <summary>What the entries hold now, in bytes (their label arrays).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    /// <summary>A new view of a dataset's predictions; the entries of its earlier views are dropped.</summary>
    public View ForDataset(long datasetId)
    {
        var id = Interlocked.Increment(ref _views);
        var previous = _viewOfDataset.GetValueOrDefault(datasetId);
        _viewOfDataset[datasetId] = id;
        if (previous != 0) RemoveWhere(k => k.View == previous);
        return new View(this, id);
    }

    /// <summary>
    /// Drops an upload's predictions, wherever they are held, and the ensembles computed with it (an ensemble's name
    /// lists the upload ids of its members).
    /// </summary>
    public void EvictUpload(long uploadId)
    {
        var id = uploadId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        RemoveWhere(k => k.UploadId == uploadId ||
                         k.Ensemble is { } name && name.Split([':', ',', '|'], StringSplitOptions.RemoveEmptyEntries).Contains(id));
    }

    private bool TryGet(Key key, out RankedPredictions value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            entry.LastUsed = Stopwatch.GetTimestamp();
            value = entry.Value;
            return true;
        }
        value = null!;
        return false;
    }

    private void Set(Key key, RankedPredictions value)
    {
        var entry = new Entry(value, value.Bytes);
        if (_entries.TryGetValue(key, out var old) && _entries.TryRemove(KeyValuePair.Create(key, old)))
            Interlocked.Add(ref _bytes, -old.Bytes);
        if (!_entries.TryAdd(key, entry)) return;
        Interlocked.Add(ref _bytes, entry.Bytes);
        if (Bytes > BudgetBytes) Trim(key);
    }

    /// <summary>Drops the least recently used entries (not the one just added) until the budget holds.</summary>
    private void Trim(Key keep)
    {
        lock (_evicting)
        {
            if (Bytes <= BudgetBytes) return;
            var byAge = _entries.Where(e => e.Key != keep).OrderBy(e => e.Value.LastUsed).ToList();
            foreach (var (key, entry) in byAge)
            {
                if (Bytes <= BudgetBytes) break;
                if (_entries.TryRemove(KeyValuePair.Create(key, entry))) Interlocked.Add(ref _bytes, -entry.Bytes);
            }
        }
    }

    private void RemoveWhere(Func<Key, bool> match)
    {
        foreach (var (key, entry) in _entries)
            if (match(key) && _entries.TryRemove(KeyValuePair.Create(key, entry)))
                Interlocked.Add(ref _bytes, -entry.Bytes);
    }

    /// <summary>One dataset's entries, by upload id (<see cref="Uploads"/>) or ensemble name (<see cref="Ensembles"/>).</summary>
    public sealed class View(PredictionsCache cache, long id)
    {
        public UploadEntries Uploads { get; } = new(cache, id);
        public EnsembleEntries Ensembles { get; } = new(cache, id);
    }

    /// <summary>The uploads of a view, with the members of a dictionary that the leaderboard uses.</summary>
    public sealed class UploadEntries(PredictionsCache cache, long view)
    {
        public bool ContainsKey(long uploadId) => cache._entries.ContainsKey(new Key(view, uploadId, null));

        public bool TryGetValue(long uploadId, out RankedPredictions value) => cache.TryGet(new Key(view, uploadId, null), out value);

        /// <summary>Reading an entry that was dropped meanwhile throws, as a dictionary would: ask <see cref="TryGetValue"/>.</summary>
        public RankedPredictions this[long uploadId]
        {
            get => TryGetValue(uploadId, out var value) ? value : throw new KeyNotFoundException($"Upload {uploadId} is not in memory.");
            set => cache.Set(new Key(view, uploadId, null), value);
        }
    }

    /// <summary>The ensembles of a view, computed once and kept while they fit.</summary>
    public sealed class EnsembleEntries(PredictionsCache cache, long view)
    {
        public RankedPredictions GetOrAdd(string name, Func<string, RankedPredictions> compute)
        {
            var key = new Key(view, 0, name);
            if (cache.TryGet(key, out var value)) return value;
            value = compute(name);
            cache.Set(key, value);
            return value;
        }
    }
}
