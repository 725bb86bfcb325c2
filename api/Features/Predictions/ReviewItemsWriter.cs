using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Predictions;

/// <summary>
/// The (image, label) pairs that reviewers decide: every predicted image's original label and each model's
/// top-1 prediction. Pairs already present keep their state; verdicts are never touched here.
/// </summary>
public static class ReviewItemsWriter
{
    /// <summary>
    /// Adds the missing review items for the images and top-1 labels of an upload, and returns how many of the
    /// upload's top-1 pairs are still pending (no verdict covers them yet).
    /// </summary>
    public static async Task<long> EnsureForUploadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long uploadId)
    {
        await connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid)
            select p.image_id, c.wnid
            from predictions p
            join prediction_uploads u on u.id = p.upload_id
            join datasets d on d.id = u.dataset_id
            join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = p.labels[1]
            where p.upload_id = @uploadId
            union
            select i.id, i.original_wnid
            from predictions p
            join images i on i.id = p.image_id
            where p.upload_id = @uploadId
            on conflict (image_id, wnid) do nothing
            """,
            new { uploadId }, transaction);
        return await CountPendingAsync(connection, transaction, uploadId);
    }

    /// <summary>How many top-1 pairs of an upload no verdict covers yet.</summary>
    public static Task<long> CountPendingAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long uploadId) =>
        connection.ExecuteScalarAsync<long>(
            """
            select count(*)
            from predictions p
            join prediction_uploads u on u.id = p.upload_id
            join datasets d on d.id = u.dataset_id
            join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = p.labels[1]
            join review_items r on r.image_id = p.image_id and r.wnid = c.wnid
            where p.upload_id = @uploadId and r.state = 'pending'
            """,
            new { uploadId }, transaction);
}
