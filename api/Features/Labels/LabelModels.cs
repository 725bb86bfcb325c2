namespace Relabel.Api.Features.Labels;

/// <summary>The reasons an image can be flagged problematic (image_flag_events.reason).</summary>
public static class FlagReasons
{
    public const string Other = "other";
    public static readonly string[] All =
        ["wrong-original-label", "unclear-original-label", "drawing-or-render", "excessively-edited", "inappropriate", Other];
}

// A review item's derived state and its version (optimistic writers send the version back).
public sealed record ItemStateResponse(long ItemId, string State, int Version);

/// <summary>The problematic state of an image.</summary>
public sealed record ImageFlagState(bool Problematic, string? Reason, int Version);

/// <summary>A verdict to append to an item's log.</summary>
public sealed record NewVerdict(long ItemId, string Verdict, string Note, bool Adjudication);

/// <summary>A problematic flag to append to an image's log.</summary>
public sealed record NewFlag(long ImageId, bool Problematic, string? Reason, string Note);

/// <summary>Who appends: a reviewer (an account) or an external source (an import, a crowd rater, an aggregation).</summary>
public readonly record struct LabelAuthor(long? ReviewerId, long? SourceId)
{
    public static LabelAuthor Reviewer(long id) => new(id, null);
    public static LabelAuthor Source(long id) => new(null, id);

    /// <summary>The author as <see cref="StoredVerdict"/> and consensus name it: "u{reviewer}" or "s{source}".</summary>
    public string Key => ReviewerId is not null ? $"u{ReviewerId}" : $"s{SourceId}";
}

/// <summary>A stored verdict event, as consensus reads it; the author is "u{reviewer}" or "s{source}".</summary>
public sealed record StoredVerdict(long Id, long ItemId, string Author, string Verdict, bool Adjudication);

/// <summary>A review item's derived state and the version that optimistic writers compare.</summary>
public sealed record ItemVersion(long Id, string State, int Version);

/// <summary>
/// What a write appended and changed, and the states it left (the items it wrote, the flags of the images it flagged).
/// When it changed labels, its label version is taken at commit (see migration 0009).
/// </summary>
public sealed record WriteOutcome(
    int Events, int ChangedItems, int ChangedFlags, long? FirstEventId, long? FirstFlagEventId, long LabelVersion,
    IReadOnlyList<ItemStateResponse> Items, IReadOnlyDictionary<long, ImageFlagState> Flags);

/// <summary>
/// What a write starts from, read inside its transaction: the items it writes (locked), their event logs, the current
/// flags of the images it flags, and the dataset's label version.
/// </summary>
public sealed record WriteBasis(
    IReadOnlyDictionary<long, ItemVersion> Items, ILookup<long, StoredVerdict> Events,
    IReadOnlyDictionary<long, bool> Problematic, long LabelVersion);

/// <summary>
/// A statement that writes (an upsert, say), run right after a reviewer's batch commits, in a transaction of its own
/// whose commit waits for the disk: see <see cref="ReviewerBatch"/>.
/// </summary>
public sealed record AfterCommit(string Sql, object Parameters);
