using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Labels;

/// <summary>
/// One reviewer's verdicts on one image and its optional flag, in two round trips: <see cref="BeginAsync"/> begins,
/// locks and reads what the write depends on; <see cref="CommitAsync"/> writes, commits and returns once the write is
/// durable (docs/architecture.md, "Durability of a review submit"). The transaction is a plain "begin" rather than an
/// NpgsqlTransaction so that the write, the commit and the read of the committed label version share one round trip.
/// Disposing a batch that did not end rolls it back.
/// </summary>
public sealed class ReviewerBatch : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private bool _ended;

    private ReviewerBatch(NpgsqlConnection connection) => _connection = connection;

    public long ImageId { get; private init; }
    public long DatasetId { get; private set; }
    public string ConsensusRule { get; private set; } = Consensus.Latest;
    public long LabelVersion { get; private set; }
    /// <summary>The image's review items, locked FOR UPDATE.</summary>
    public IReadOnlyDictionary<long, ItemVersion> Items { get; private set; } = new Dictionary<long, ItemVersion>();
    /// <summary>Every verdict event of the image's items, oldest first.</summary>
    public ILookup<long, StoredVerdict> Events { get; private set; } = Array.Empty<StoredVerdict>().ToLookup(e => e.ItemId);
    /// <summary>The image's flag (locked when the batch may change it).</summary>
    public ImageFlagState Flag { get; private set; } = new(false, null, 0);

    private sealed record DatasetRow(long Id, string ConsensusRule, long LabelVersion);

    /// <summary>
    /// Begins, locks the dataset (FOR KEY SHARE), the image's items and, with <paramref name="lockFlag"/>, its flag,
    /// and reads them. Null (rolled back) when the image does not exist.
    /// </summary>
    public static async Task<ReviewerBatch?> BeginAsync(NpgsqlConnection connection, long imageId, bool lockFlag)
    {
        var batch = new ReviewerBatch(connection) { ImageId = imageId };
        try
        {
            using var read = await connection.QueryMultipleAsync(lockFlag ? BeginLockingFlagSql : BeginSql, new { id = imageId });
            var dataset = await read.ReadSingleOrDefaultAsync<DatasetRow>();
            batch.Items = (await read.ReadAsync<ItemVersion>()).ToDictionary(i => i.Id);
            batch.Events = (await read.ReadAsync<StoredVerdict>()).ToLookup(e => e.ItemId);
            batch.Flag = await read.ReadSingleOrDefaultAsync<ImageFlagState>() ?? new ImageFlagState(false, null, 0);
            if (dataset is null)
            {
                await batch.DisposeAsync();
                return null;
            }
            (batch.DatasetId, batch.ConsensusRule, batch.LabelVersion) = (dataset.Id, dataset.ConsensusRule, dataset.LabelVersion);
            return batch;
        }
        catch
        {
            await batch.DisposeAsync();
            throw;
        }
    }

    private const string BeginSql =
        $"""
         begin;
         select d.id, d.consensus_rule, d.label_version from images i join datasets d on d.id = i.dataset_id
         where i.id = @id for key share of d;
         select id, state, version from review_items where image_id = @id order by id for update;
         select {LabelWriter.StoredVerdictColumns} from verdict_events e join review_items r on r.id = e.item_id
         where r.image_id = @id order by e.id;
         select problematic, reason, version from image_states where image_id = @id;
         """;

    private const string BeginLockingFlagSql =
        $"""
         begin;
         select d.id, d.consensus_rule, d.label_version from images i join datasets d on d.id = i.dataset_id
         where i.id = @id for key share of d;
         select id, state, version from review_items where image_id = @id order by id for update;
         select {LabelWriter.StoredVerdictColumns} from verdict_events e join review_items r on r.id = e.item_id
         where r.image_id = @id order by e.id;
         insert into image_states (image_id) select id from images where id = @id on conflict do nothing;
         select problematic, reason, version from image_states where image_id = @id for update;
         """;

    /// <summary>The author's standing verdict on an item (their latest that is not an adjudication), or 'unreviewed'.</summary>
    public string StandingVerdict(long itemId, LabelAuthor author) =>
        Events[itemId].LastOrDefault(e => e.Author == author.Key && !e.Adjudication)?.Verdict ?? Verdicts.Unreviewed;

    /// <summary>Ends the batch without writing.</summary>
    public async Task RollbackAsync()
    {
        await _connection.ExecuteAsync("rollback");
        _ended = true;
    }

    /// <summary>
    /// Writes the verdicts and flags, commits, then runs <paramref name="afterCommit"/> in a transaction of its own, all
    /// in one round trip; the outcome's label version is the committed one.
    /// </summary>
    public async Task<WriteOutcome> CommitAsync(
        LabelAuthor author, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags, double? secondsSpent, AfterCommit afterCommit)
    {
        var basis = new WriteBasis(Items, Events, new Dictionary<long, bool> { [ImageId] = Flag.Problematic }, LabelVersion);
        var outcome = await LabelWriter.WriteAsync(_connection, null, basis, DatasetId, ConsensusRule, author, verdicts, flags,
            secondsSpent, afterCommit);
        _ended = true;
        return outcome;
    }

    /// <summary>
    /// A failed statement or an early return leaves the transaction open: end it before the connection goes back. (If
    /// that fails too, the connection is gone and the error that brought us here is the one to report.)
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_ended || _connection.State != System.Data.ConnectionState.Open) return;
        _ended = true;
        try { await _connection.ExecuteAsync("rollback"); }
        catch (NpgsqlException) { }
    }
}
