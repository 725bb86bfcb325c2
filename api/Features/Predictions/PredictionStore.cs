using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Labels;
using NpgsqlTypes;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Predictions;

/// <summary>What an upload did: applied (the new current set) or unchanged (identical to the current set).</summary>
/// <param name="Replaced">The upload whose set this one replaced (its rows are deleted), if any.</param>
public sealed record PredictionUploadOutcome(long UploadId, string Outcome, string Checksum, long? Replaced = null);

/// <summary>
/// Writes one upload while it is being parsed: the first valid row opens the transaction, takes the model's upload lock
/// and records the upload, so that this overlaps the parsing; the rows are packed into blocks (see
/// <see cref="PredictionStore.CopyBlocksAsync"/>) and copied at <see cref="CommitAsync"/>, which points the model's set
/// at them (readers go through prediction_sets: they see the old rows or the new, never a mixture). An upload with
/// errors is rolled back whole by disposing. The database is not touched until the first valid row, so bad bodies cost
/// it nothing.
/// </summary>
public sealed class PredictionWriter : IAsyncDisposable
{
    public const string Applied = "applied";
    public const string Unchanged = "unchanged";

    private readonly NpgsqlDataSource _db;
    private readonly long _modelId, _datasetId, _uploadedBy;
    private readonly string _format;
    private readonly bool _partial;
    private readonly CancellationToken _ct;
    private readonly TaskCompletionSource<bool> _firstRow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _start;
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;
    private (long UploadId, string Checksum)? _current;
    private long _uploadId;

    public PredictionWriter(NpgsqlDataSource db, long modelId, long datasetId, long uploadedBy, string format, bool partial, CancellationToken ct)
    {
        (_db, _modelId, _datasetId, _uploadedBy, _format, _partial, _ct) = (db, modelId, datasetId, uploadedBy, format, partial, ct);
        _start = Task.Run(StartAsync, CancellationToken.None);
    }

    /// <summary>Takes a valid row (the parser's <see cref="PredictionParser.RowAdded"/>): the first one starts the transaction.</summary>
    public void Add(PredictionRow row) => _firstRow.TrySetResult(true);

    private async Task StartAsync()
    {
        if (!await _firstRow.Task.WaitAsync(_ct)) return;
        _connection = await _db.OpenConnectionAsync(_ct);
        _transaction = await _connection.BeginTransactionAsync(_ct);
        // Uploads of one model on one dataset are serialised: the last to take the lock wins, whole.
        await _connection.ExecuteAsync(
            "select pg_advisory_xact_lock(hashtextextended('prediction_sets:' || @modelId || ':' || @datasetId, 0))",
            new { modelId = _modelId, datasetId = _datasetId }, _transaction);
        _current = await _connection.QuerySingleOrDefaultAsync<(long UploadId, string Checksum)?>(
            "select upload_id, checksum from prediction_sets where model_id = @modelId and dataset_id = @datasetId",
            new { modelId = _modelId, datasetId = _datasetId }, _transaction);
        // Counts and checksum are known at the end; the row is completed then, in the same transaction.
        _uploadId = await _connection.ExecuteScalarAsync<long>(
            """
            insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
            values (@modelId, @datasetId, @uploadedBy, @format, 0, 1, @partial, repeat('0', 64), 'applied', 0)
            returning id
            """,
            new { modelId = _modelId, datasetId = _datasetId, uploadedBy = _uploadedBy, format = _format, partial = _partial },
            _transaction);
    }

    /// <summary>
    /// After the last row of a valid body: unless the content equals the current set's (then the copied rows are
    /// dropped and the upload is recorded as unchanged), points the set at the new rows and records the follow-up
    /// (review items, deletion of the replaced rows; see <see cref="PredictionFollowups"/>). One commit.
    /// </summary>
    public async Task<PredictionUploadOutcome> CommitAsync(int k, List<PredictionRow> rows, Stopwatch elapsed)
    {
        _firstRow.TrySetResult(false);
        await _start;
        if (_connection is null || _transaction is null) throw new InvalidOperationException("An upload without rows cannot be committed.");
        rows.Sort((a, b) => a.ImageId.CompareTo(b.ImageId));
        var checksum = PredictionStore.Checksum(rows);
        var unchanged = _current?.Checksum == checksum;
        if (!unchanged)
        {
            // The blocks' statement-level reference check (migration 0020) confirms that every image is in the dataset
            // and locks the dataset's images against deletion until the commit, which finds any image deleted meanwhile.
            try { await PredictionStore.CopyBlocksAsync(_connection, _uploadId, rows, _ct); }
            catch (PostgresException e) when (e is { SqlState: PostgresErrorCodes.ForeignKeyViolation, ConstraintName: "predictions_image_id_fkey" })
            {
                throw new ImagesChangedException(e.Detail);
            }
            await _connection.ExecuteAsync(
                """
                insert into prediction_sets (model_id, dataset_id, upload_id, k, rows, checksum, updated_at)
                values (@modelId, @datasetId, @uploadId, @k, @rows, @checksum, now())
                on conflict (model_id, dataset_id) do update
                set upload_id = excluded.upload_id, k = excluded.k, rows = excluded.rows,
                    checksum = excluded.checksum, updated_at = excluded.updated_at;
                insert into prediction_followups (upload_id, replaced_upload_id) values (@uploadId, @replaced);
                """,
                new { modelId = _modelId, datasetId = _datasetId, uploadId = _uploadId, k, rows = rows.Count, checksum, replaced = _current?.UploadId },
                _transaction);
        }
        await _connection.ExecuteAsync(
            """
            update prediction_uploads set rows = @rows, k = @k, checksum = @checksum, outcome = @outcome, elapsed_ms = @ms
            where id = @uploadId
            """,
            new { rows = rows.Count, k, checksum, outcome = unchanged ? Unchanged : Applied, ms = elapsed.Elapsed.TotalMilliseconds, uploadId = _uploadId },
            _transaction);
        await _transaction.CommitAsync(_ct);
        return new PredictionUploadOutcome(_uploadId, unchanged ? Unchanged : Applied, checksum);
    }

    /// <summary>Rolls back whatever was not committed.</summary>
    public async ValueTask DisposeAsync()
    {
        _firstRow.TrySetResult(false);
        // A failed start was reported by CommitAsync, or the upload was abandoned: either way it is rolled back here.
        try { await _start; }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or InvalidOperationException or IOException or ImagesChangedException) { }
        if (_transaction is not null) await _transaction.DisposeAsync();
        if (_connection is not null) await _connection.DisposeAsync();
    }
}

/// <summary>Images an upload names were deleted while it was copying its rows: nothing was written.</summary>
public sealed class ImagesChangedException(string? detail)
    : Exception($"Images this upload names were deleted while it was being written ({detail}); nothing was changed. Send it again.");

/// <summary>A whole set of rows to store at once (the demo and human-labeling paths; HTTP uploads stream).</summary>
public sealed record PredictionUpload(
    long ModelId,
    long DatasetId,
    long UploadedBy,
    string Format,
    bool Partial,
    int K,
    List<PredictionRow> Rows);

/// <summary>The canonical checksum of a prediction set, and the review pairs an upload leaves pending.</summary>
public static class PredictionStore
{
    public const string Applied = PredictionWriter.Applied;
    public const string Unchanged = PredictionWriter.Unchanged;

    /// <summary>Image ids per block of prediction_blocks (migration 0020).</summary>
    public const int BlockSize = 128;

    /// <summary>
    /// Stores an upload's rows (sorted by image id) as prediction_blocks by binary COPY: per block of
    /// <see cref="BlockSize"/> consecutive image ids, k slots per image id (k: the longest row of the block) holding the
    /// class indices, -1 where a row is shorter or an image id has no row; the scores in the same slots, NaN where a row
    /// has none (the column is null when no row of the block has scores).
    /// </summary>
    public static async Task CopyBlocksAsync(NpgsqlConnection connection, long uploadId, IReadOnlyList<PredictionRow> rowsByImageId, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "copy prediction_blocks (upload_id, block, k, labels, scores) from stdin (format binary)", ct);
        var start = 0;
        while (start < rowsByImageId.Count)
        {
            var block = rowsByImageId[start].ImageId / BlockSize;
            var end = start;
            var k = 1;
            var scored = false;
            for (; end < rowsByImageId.Count && rowsByImageId[end].ImageId / BlockSize == block; end++)
            {
                k = Math.Max(k, rowsByImageId[end].Labels.Length);
                scored |= rowsByImageId[end].Scores is not null;
            }
            var slots = (int)(rowsByImageId[end - 1].ImageId % BlockSize) + 1;
            var labels = new short[slots * k];
            Array.Fill(labels, (short)-1);
            var scores = scored ? new float[slots * k] : null;
            if (scores is not null) Array.Fill(scores, float.NaN);
            for (var r = start; r < end; r++)
            {
                var row = rowsByImageId[r];
                var first = (int)(row.ImageId % BlockSize) * k;
                row.Labels.CopyTo(labels, first);
                if (scores is not null && row.Scores is { } given)
                    for (var j = 0; j < given.Length; j++) scores[first + j] = given[j];
            }
            copy.StartRow();
            copy.Write(uploadId, NpgsqlDbType.Bigint);
            copy.Write(block, NpgsqlDbType.Bigint);
            copy.Write((short)k, NpgsqlDbType.Smallint);
            copy.Write(labels, NpgsqlDbType.Array | NpgsqlDbType.Smallint);
            if (scores is null) copy.WriteNull();
            else copy.Write(scores, NpgsqlDbType.Array | NpgsqlDbType.Real);
            start = end;
        }
        await copy.CompleteAsync(ct);
    }

    /// <summary>
    /// A whole set inside the caller's transaction (a bundle import writes many sets at once): review items and the
    /// deletion of the replaced rows happen here too, in the same transaction. With <paramref name="recordUnchanged"/>
    /// false, content equal to the current set's records nothing.
    /// </summary>
    public static async Task<PredictionUploadOutcome> ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PredictionUpload upload, Stopwatch elapsed, bool recordUnchanged,
        CancellationToken ct = default)
    {
        upload.Rows.Sort((a, b) => a.ImageId.CompareTo(b.ImageId));
        var checksum = Checksum(upload.Rows);
        await connection.ExecuteAsync(
            "select pg_advisory_xact_lock(hashtextextended('prediction_sets:' || @ModelId || ':' || @DatasetId, 0))",
            new { upload.ModelId, upload.DatasetId }, transaction);
        var current = await connection.QuerySingleOrDefaultAsync<(long UploadId, string Checksum)?>(
            "select upload_id, checksum from prediction_sets where model_id = @ModelId and dataset_id = @DatasetId",
            new { upload.ModelId, upload.DatasetId }, transaction);
        var unchanged = current?.Checksum == checksum;
        if (unchanged && !recordUnchanged) return new PredictionUploadOutcome(current!.Value.UploadId, Unchanged, checksum);

        var uploadId = await connection.ExecuteScalarAsync<long>(
            """
            insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
            values (@ModelId, @DatasetId, @UploadedBy, @Format, @rows, @K, @Partial, @checksum, @outcome, @ms)
            returning id
            """,
            new
            {
                upload.ModelId, upload.DatasetId, upload.UploadedBy, upload.Format, rows = upload.Rows.Count, upload.K, upload.Partial,
                checksum, outcome = unchanged ? Unchanged : Applied, ms = elapsed.Elapsed.TotalMilliseconds,
            },
            transaction);
        if (unchanged) return new PredictionUploadOutcome(uploadId, Unchanged, checksum);

        await CopyBlocksAsync(connection, uploadId, upload.Rows, ct);
        await connection.ExecuteAsync(
            """
            insert into prediction_sets (model_id, dataset_id, upload_id, k, rows, checksum, updated_at)
            values (@ModelId, @DatasetId, @uploadId, @K, @rows, @checksum, now())
            on conflict (model_id, dataset_id) do update
            set upload_id = excluded.upload_id, k = excluded.k, rows = excluded.rows,
                checksum = excluded.checksum, updated_at = excluded.updated_at
            """,
            new { upload.ModelId, upload.DatasetId, uploadId, upload.K, rows = upload.Rows.Count, checksum }, transaction);
        if (current is not null)
            await connection.ExecuteAsync("delete from prediction_blocks where upload_id = @previous", new { previous = current.Value.UploadId }, transaction);
        await LabelImport.EnsureItemsForUploadAsync(connection, transaction, uploadId);
        return new PredictionUploadOutcome(uploadId, Applied, checksum, current?.UploadId);
    }

    /// <summary>Stores a whole set of rows as one upload (see <see cref="PredictionWriter"/>).</summary>
    public static async Task<PredictionUploadOutcome> ApplyAsync(
        NpgsqlDataSource db, PredictionFollowups followups, PredictionUpload upload, Stopwatch elapsed, CancellationToken ct = default)
    {
        PredictionUploadOutcome outcome;
        await using (var writer = new PredictionWriter(db, upload.ModelId, upload.DatasetId, upload.UploadedBy, upload.Format, upload.Partial, ct))
        {
            foreach (var row in upload.Rows) writer.Add(row);
            outcome = await writer.CommitAsync(upload.K, upload.Rows, elapsed);
        }
        if (outcome.Outcome == PredictionWriter.Applied) followups.Notify(outcome.UploadId, upload.DatasetId);
        return outcome;
    }

    /// <summary>
    /// Of the given images, the (image, class index) pairs that verdicts have decided (or left in conflict), as
    /// image id * 32768 + class index: an upload's top-1 pairs outside this set are new for review. Read beside the
    /// upload's commit on a connection of <paramref name="side"/> (see <see cref="Database.Side"/>).
    /// </summary>
    public static async Task<HashSet<long>> DecidedPairsAsync(NpgsqlDataSource side, long labelSpaceId, long[] imageIds, CancellationToken ct)
    {
        await using var connection = await side.OpenConnectionAsync(ct);
        var pairs = new HashSet<long>();
        await using var reader = await connection.ExecuteReaderAsync(
            """
            select r.image_id * 32768 + c.class_index
            from unnest(@imageIds) as u (image_id)
            join review_items r on r.image_id = u.image_id
            join label_space_classes c on c.label_space_id = @labelSpaceId and c.wnid = r.wnid
            where r.state <> 'pending' and c.class_index < 32767
            """,
            new { labelSpaceId, imageIds });
        while (await reader.ReadAsync(ct)) pairs.Add(reader.GetInt64(0));
        return pairs;
    }

    public static long CountPending(List<PredictionRow> rows, HashSet<long> decided) =>
        rows.Count(r => !decided.Contains(r.ImageId * 32768 + r.Labels[0]));

    /// <summary>
    /// SHA-256 of the canonical content: rows by image id, each as the image id, k, the class indices and the scores
    /// (little-endian). Independent of the body's format and of how labels were written (wnid or index).
    /// </summary>
    public static string Checksum(IReadOnlyList<PredictionRow> rowsByImageId)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[8 + 1 + 1 + PredictionParser.MaxK * 2 + PredictionParser.MaxK * 4];
        foreach (var row in rowsByImageId)
        {
            var length = 0;
            BinaryPrimitives.WriteInt64LittleEndian(buffer, row.ImageId);
            length += 8;
            buffer[length++] = (byte)row.Labels.Length;
            foreach (var label in row.Labels)
            {
                BinaryPrimitives.WriteInt16LittleEndian(buffer[length..], label);
                length += 2;
            }
            buffer[length++] = row.Scores is null ? (byte)0 : (byte)1;
            foreach (var score in row.Scores ?? [])
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer[length..], score);
                length += 4;
            }
            hash.AppendData(buffer[..length]);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
