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

    public static string ModelSlug(string userName) => ModelRules.HumanPrefix + userName.ToLowerInvariant();

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

    /// <summary>
    /// Publishes every labeler's answers on the dataset inside the caller's transaction (the submit that completes a
    /// task), so that a crash leaves the task either submittable again or published, never submitted and unpublished.
    /// Returns the uploads the new sets replaced (to drop from memory once committed).
    /// </summary>
    public static async Task<List<long>> PublishAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, long ownerId,
        ILogger logger, CancellationToken ct = default)
    {
        // A labeler's latest answer per image, over every completed evaluation task on the dataset.
        var answers = (await connection.QueryAsync<Answer>(
            """
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
            new { datasetId }, transaction)).ToList();
        await RefreshImageSetsAsync(connection, transaction, datasetId);

        var replaced = new List<long>();
        foreach (var labeler in answers.GroupBy(a => a.Labeler))
        {
            var slug = ModelSlug(labeler.Key);
            await connection.ExecuteAsync(
                """
                insert into models (slug, display_name, kind, description, training_data, owner_id)
                values (@slug, @slug, @kind, 'Answers of an evaluation labeling task.', 'human', @ownerId)
                on conflict (slug) do nothing
                """,
                new { slug, kind = ModelKinds.Human, ownerId }, transaction);
            // Only a human model an admin owns takes the answers: one of another kind, or one an uploader made under the
            // name before human- names were reserved, is never written into.
            var modelId = await connection.QuerySingleOrDefaultAsync<long?>(
                """
                select m.id from models m join users o on o.id = m.owner_id
                where m.slug = @slug and m.kind = @kind and 'admin' = any(o.roles)
                """,
                new { slug, kind = ModelKinds.Human }, transaction);
            if (modelId is null)
            {
                logger.LogWarning("The answers of labeler {Labeler} were not published: model {Slug} exists and is not an admin's human model",
                    labeler.Key, slug);
                continue;
            }
            var rows = labeler.Select(a => new PredictionRow(a.ImageId, [a.ClassIndex], null)).ToList();
            var outcome = await PredictionStore.ApplyAsync(connection, transaction,
                new PredictionUpload(modelId.Value, datasetId, ownerId, "json", Partial: true, K: 1, rows), Stopwatch.StartNew(),
                recordUnchanged: true, ct);
            if (outcome.Replaced is { } old) replaced.Add(old);
        }
        return replaced;
    }

    /// <summary>The image sets "humans-labeled" and "humans-fast" of the dataset, for a fair comparison of humans and models.</summary>
    private static async Task RefreshImageSetsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId)
    {
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
    }
}
