using System.Diagnostics;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Models;
using Relabel.Api.Features.Predictions;

namespace Relabel.Api.Features.Labeling;

/// <summary>
/// Evaluation answers as predictions: each labeler is the model human-&lt;name&gt; (k = 1, partial coverage), stored
/// through <see cref="PredictionStore"/> like any upload, so the leaderboard grades humans like models. Only tasks
/// that every labeler has submitted count, so that no labeler can read another's answers while still working.
/// </summary>
public static class HumanPredictions
{
    public const string LabeledImageSet = "humans-labeled";
    public const string FastImageSet = "humans-fast";
    /// <summary>The paper's "fast images": median labeling time across labelers under a minute.</summary>
    public const double FastSeconds = 60;

    public static string ModelSlug(string userName) => "human-" + userName.ToLowerInvariant();

    private sealed record Answer
    {
        public required string Labeler { get; init; }
        public required long ImageId { get; init; }
        public required short ClassIndex { get; init; }
    }

    private const string CompletedEvaluationAnswers =
        """
        from labeling_answers a
        join labeling_tasks t on t.id = a.task_id
        where t.dataset_id = @datasetId and t.mode = 'evaluation' and a.wnid is not null
          and not exists (select 1 from labeling_task_labelers l where l.task_id = t.id and l.submitted_at is null)
        """;

    public static async Task PublishAsync(NpgsqlDataSource db, PredictionFollowups followups, long datasetId, long ownerId, CancellationToken ct = default)
    {
        List<Answer> answers;
        await using (var connection = await db.OpenConnectionAsync(ct))
        {
            // A labeler's latest answer per image, over every completed evaluation task on the dataset.
            answers = (await connection.QueryAsync<Answer>(
                $"""
                 select distinct on (a.user_id, a.image_id) u.name as labeler, a.image_id, c.class_index::smallint as class_index
                 from labeling_answers a
                 join labeling_tasks t on t.id = a.task_id
                 join users u on u.id = a.user_id
                 join datasets d on d.id = t.dataset_id
                 join label_space_classes c on c.label_space_id = d.label_space_id and c.wnid = a.wnid
                 where t.dataset_id = @datasetId and t.mode = 'evaluation'
                   and not exists (select 1 from labeling_task_labelers l where l.task_id = t.id and l.submitted_at is null)
                 order by a.user_id, a.image_id, a.answered_at desc
                 """,
                new { datasetId })).ToList();
            await RefreshImageSetsAsync(connection, datasetId);
        }

        foreach (var labeler in answers.GroupBy(a => a.Labeler))
        {
            long? modelId;
            await using (var connection = await db.OpenConnectionAsync(ct))
            {
                var slug = ModelSlug(labeler.Key);
                await connection.ExecuteAsync(
                    """
                    insert into models (slug, display_name, kind, description, training_data, owner_id)
                    values (@slug, @slug, @kind, 'Answers of an evaluation labeling task.', 'human', @ownerId)
                    on conflict (slug) do nothing
                    """,
                    new { slug, kind = ModelKinds.Human, ownerId });
                // A model of another kind that happens to have the slug is never overwritten.
                modelId = await connection.QuerySingleOrDefaultAsync<long?>(
                    "select id from models where slug = @slug and kind = @kind", new { slug, kind = ModelKinds.Human });
            }
            if (modelId is null) continue;
            var rows = labeler.Select(a => new PredictionRow(a.ImageId, [a.ClassIndex], null)).ToList();
            await PredictionStore.ApplyAsync(db, followups,
                new PredictionUpload(modelId.Value, datasetId, ownerId, "json", Partial: true, K: 1, rows), Stopwatch.StartNew(), ct);
        }
    }

    /// <summary>The image sets "humans-labeled" and "humans-fast" of the dataset, for a fair comparison of humans and models.</summary>
    private static async Task RefreshImageSetsAsync(NpgsqlConnection connection, long datasetId)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        foreach (var (name, description, having) in new[]
        {
            (LabeledImageSet, "Images labeled by humans in completed evaluation tasks.", "true"),
            (FastImageSet, "Images labeled by humans whose median labeling time is under 60 s.",
                "percentile_cont(0.5) within group (order by a.seconds) < @fast"),
        })
        {
            var setId = await connection.ExecuteScalarAsync<long>(
                """
                insert into image_sets (dataset_id, name, description, source) values (@datasetId, @name, @description, 'labeling')
                on conflict (dataset_id, name) do update set description = excluded.description, revision = image_sets.revision + 1
                returning id
                """,
                new { datasetId, name, description }, transaction);
            await connection.ExecuteAsync("delete from image_set_members where image_set_id = @setId", new { setId }, transaction);
            await connection.ExecuteAsync(
                $"""
                 insert into image_set_members (image_set_id, image_id)
                 select @setId, a.image_id
                 {CompletedEvaluationAnswers}
                 group by a.image_id
                 having {having}
                 """,
                new { setId, datasetId, fast = FastSeconds }, transaction);
        }
        await transaction.CommitAsync();
    }
}
