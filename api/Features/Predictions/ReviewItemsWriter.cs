using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Predictions;

/// <summary>
/// The (image, label) pairs that reviewers decide: every predicted image's original label and each model's
/// top-1 prediction. Pairs already present keep their state; verdicts are never touched here.
/// </summary>
public static class ReviewItemsWriter
{
    /// <summary>Adds the missing review items for the images and top-1 labels of an upload.</summary>
    public static Task EnsureForUploadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long uploadId) =>
        connection.ExecuteAsync(
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
}
