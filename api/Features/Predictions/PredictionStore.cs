using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Features.Predictions;

/// <summary>A validated upload: the rows of one model on one dataset, and how they came.</summary>
public sealed record PredictionUpload(
    long ModelId,
    long DatasetId,
    long UploadedBy,
    string Format,
    bool Partial,
    int K,
    List<PredictionRow> Rows);

/// <summary>What an upload did: applied (the new current set) or unchanged (identical to the current set).</summary>
public sealed record PredictionUploadOutcome(long UploadId, string Outcome, string Checksum, long PairsPendingReview);

/// <summary>
/// Replaces a model's predictions on a dataset as one atomic step. Readers go through prediction_sets, so they see
/// the old upload's rows or the new upload's rows, never a mixture.
/// </summary>
public static class PredictionStore
{
    public const string Applied = "applied";
    public const string Unchanged = "unchanged";

    /// <summary>
    /// In one transaction, serialised per model and dataset by an advisory lock: record the upload; unless the
    /// content equals the current set's, COPY the rows under the new upload id, point the set at it, drop the old
    /// upload's rows and add the review items. The last upload to take the lock wins, whole.
    /// </summary>
    public static async Task<PredictionUploadOutcome> ApplyAsync(
        NpgsqlDataSource db, PredictionUpload upload, Stopwatch elapsed, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var outcome = await ApplyAsync(connection, transaction, upload, elapsed, recordUnchanged: true, ct);
        await transaction.CommitAsync(ct);
        return outcome;
    }

    /// <summary>
    /// The same inside the caller's transaction (a bundle import writes many sets at once). With
    /// <paramref name="recordUnchanged"/> false, content equal to the current set's records nothing.
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
        if (unchanged && !recordUnchanged)
            return new PredictionUploadOutcome(current!.Value.UploadId, Unchanged, checksum,
                await ReviewItemsWriter.CountPendingAsync(connection, transaction, current.Value.UploadId));

        var uploadId = await connection.ExecuteScalarAsync<long>(
            """
            insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
            values (@ModelId, @DatasetId, @UploadedBy, @Format, @rows, @K, @Partial, @checksum, @outcome, 0)
            returning id
            """,
            new
            {
                upload.ModelId, upload.DatasetId, upload.UploadedBy, upload.Format, rows = upload.Rows.Count,
                upload.K, upload.Partial, checksum, outcome = unchanged ? Unchanged : Applied,
            },
            transaction);

        long pending;
        if (unchanged)
            pending = await ReviewItemsWriter.CountPendingAsync(connection, transaction, current!.Value.UploadId);
        else
        {
            await CopyRowsAsync(connection, uploadId, upload.Rows, ct);
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
                await connection.ExecuteAsync(
                    "delete from predictions where upload_id = @previous", new { previous = current.Value.UploadId }, transaction);
            pending = await ReviewItemsWriter.EnsureForUploadAsync(connection, transaction, uploadId);
        }

        await connection.ExecuteAsync(
            "update prediction_uploads set elapsed_ms = @ms where id = @uploadId",
            new { ms = elapsed.Elapsed.TotalMilliseconds, uploadId }, transaction);
        return new PredictionUploadOutcome(uploadId, unchanged ? Unchanged : Applied, checksum, pending);
    }

    private static async Task CopyRowsAsync(NpgsqlConnection connection, long uploadId, List<PredictionRow> rows, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "copy predictions (upload_id, image_id, labels, scores) from stdin (format binary)", ct);
        foreach (var row in rows)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(uploadId, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(row.ImageId, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(row.Labels, NpgsqlDbType.Array | NpgsqlDbType.Smallint, ct);
            if (row.Scores is null) await copy.WriteNullAsync(ct);
            else await copy.WriteAsync(row.Scores, NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
        }
        await copy.CompleteAsync(ct);
    }

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
