using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Features.Review;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Labeling;

/// <summary>Humans as classifiers: labeling tasks, answers with server-side timing, training feedback.</summary>
public static class LabelingApi
{
    public static RouteGroupBuilder MapLabeling(this IEndpointRouteBuilder routes)
    {
        // Admins create tasks and read progress and timing; labelers (any signed-in user named on a task) open images,
        // answer, pause and submit. The server keeps each image's clock, so times cannot be sent by the client.
        var group = routes.MapGroup("/api/labeling").WithTags("Labeling").WithValidation().RequireAuthorization(Policies.SignedIn)
            .AfterPredictionFollowups();
        group.MapPost("/tasks", Create).WithName("CreateLabelingTask").RequireAuthorization(Policies.Admin)
            .WithSummary("Create a training or evaluation task: a dataset, its images (list, class-balanced sample or subset) and its labelers.");
        group.MapGet("/tasks", List).WithName("ListLabelingTasks")
            .WithSummary("The caller's tasks with the caller's progress (admins: every task).");
        group.MapGet("/tasks/{id:long}", Get).WithName("GetLabelingTask")
            .WithSummary("One task, for its labelers and admins.");
        group.MapGet("/tasks/{id:long}/progress", Progress).WithName("LabelingTaskProgress").RequireAuthorization(Policies.Admin)
            .WithSummary("Every labeler's progress: images and parts completed, accuracy per part (training), median seconds.");
        group.MapGet("/tasks/{id:long}/items/{position:int}", GetItem).WithName("GetLabelingItem")
            .WithSummary("The image at a position, for a labeler of the task; opening it starts (or resumes) its clock.");
        group.MapPut("/tasks/{id:long}/items/{position:int}", Answer).WithName("AnswerLabelingItem")
            .WithSummary("Answer (or change the answer for) the image at a position; training tasks get feedback at once.");
        group.MapPost("/tasks/{id:long}/pause", Pause).WithName("PauseLabelingTask")
            .WithSummary("Stop the clock of the caller's open image; opening an image resumes it.");
        group.MapPost("/tasks/{id:long}/submit", Submit).WithName("SubmitLabelingTask")
            .WithSummary("Submit the caller's answers; they can no longer change. Evaluation answers become human-<name> predictions once every labeler has submitted.");
        group.MapGet("/timing", Timing).WithName("LabelingTiming").RequireAuthorization(Policies.Admin)
            .WithSummary("Per labeler, the median seconds per image on a dataset's evaluation tasks, and how many images are fast (median under 60 s).");
        return group;
    }

    private sealed record TaskRow
    {
        public required long Id { get; init; }
        public required string Name { get; init; }
        public required string Dataset { get; init; }
        public required long DatasetId { get; init; }
        public required string Mode { get; init; }
        public required int PartSize { get; init; }
        public required int Images { get; init; }
        public required string[] Labelers { get; init; }
        public required DateTime CreatedAt { get; init; }
        public required bool IsLabeler { get; init; }
        public required DateTime? SubmittedAt { get; init; }
    }

    private const string TaskSelect =
        """
        select t.id, t.name, d.slug as dataset, t.dataset_id, t.mode, t.part_size, t.created_at,
               (select count(*)::int from labeling_task_images i where i.task_id = t.id) as images,
               array(select u.name from labeling_task_labelers l join users u on u.id = l.user_id where l.task_id = t.id order by u.name) as labelers,
               me.user_id is not null as is_labeler, me.submitted_at
        from labeling_tasks t
        join datasets d on d.id = t.dataset_id
        left join labeling_task_labelers me on me.task_id = t.id and me.user_id = @me
        """;

    public static async Task<Results<Created<LabelingTaskResponse>, ProblemHttpResult>> Create(
        CreateLabelingTaskRequest request, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var training = request.Mode == LabelingModes.Training;
        await using var connection = await db.OpenConnectionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>("select id from datasets where slug = @Dataset", new { request.Dataset });
        if (datasetId is null) return Problems.NotFound($"Dataset '{request.Dataset}' does not exist.");
        var labelers = (await connection.QueryAsync<(string Name, long Id)>(
            "select name, id from users where name = any(@Labelers)", new { request.Labelers })).ToList();
        var unknown = request.Labelers.Except(labelers.Select(l => l.Name)).FirstOrDefault();
        if (unknown is not null) return Problems.Unprocessable("Unknown labeler", "labelers", $"There is no user '{unknown}'.");

        // Training needs decided labels to grade against: images with at least one item decided correct.
        const string Decided = "(not @training or exists (select 1 from review_items r where r.image_id = i.id and r.state = 'correct'))";
        List<long> images;
        if (request.FileNames is { } files)
        {
            var found = (await connection.QueryAsync<(string File, long Id)>(
                $"select i.file_name, i.id from images i where i.dataset_id = @datasetId and i.file_name = any(@files) and {Decided}",
                new { datasetId, files, training })).ToDictionary(r => r.File, r => r.Id);
            var missing = files.FirstOrDefault(f => !found.ContainsKey(f));
            if (missing is not null)
                return Problems.Unprocessable("Unknown image", "fileNames", training
                    ? $"'{missing}' is not an image of '{request.Dataset}' with decided labels."
                    : $"'{missing}' is not an image of '{request.Dataset}'.");
            images = files.Select(f => found[f]).ToList();
        }
        else
        {
            long? subsetId = null;
            if (request.Subset is not null)
            {
                subsetId = await connection.QuerySingleOrDefaultAsync<long?>(
                    "select id from subsets where dataset_id = @datasetId and name = @Subset", new { datasetId, request.Subset });
                if (subsetId is null) return Problems.NotFound($"Dataset '{request.Dataset}' has no subset '{request.Subset}'.");
            }
            var candidates = (await connection.QueryAsync<(long ImageId, string Wnid)>(
                $"""
                 select i.id, i.original_wnid from images i
                 where i.dataset_id = @datasetId and {Decided}
                   and (@subsetId::bigint is null or i.original_wnid in (select wnid from subset_wnids(@subsetId)))
                 order by i.id
                 """,
                new { datasetId, subsetId, training })).Select(c => new SampleCandidate(c.ImageId, c.Wnid)).ToList();
            images = request.SampleSize is { } size
                ? TaskSampler.ClassBalanced(candidates, size, request.Seed ?? 0)
                : candidates.Select(c => c.ImageId).ToList();
        }
        if (images.Count == 0) return Problems.Unprocessable("No images", "fileNames", "The selection contains no images.");

        var selection = JsonSerializer.Serialize(new
        {
            sampleSize = request.SampleSize, seed = request.SampleSize is null ? null : (int?)(request.Seed ?? 0),
            subset = request.Subset, explicitList = request.FileNames is not null,
        });
        await using var transaction = await connection.BeginTransactionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into labeling_tasks (dataset_id, name, mode, part_size, selection, created_by)
            values (@datasetId, @Name, @Mode, @partSize, @selection::jsonb, @me)
            returning id
            """,
            new { datasetId, request.Name, request.Mode, partSize = request.PartSize ?? 25, selection, me = user.UserId() }, transaction);
        await connection.ExecuteAsync(
            """
            insert into labeling_task_images (task_id, position, image_id)
            select @id, p.position::int, p.image_id from unnest(@images) with ordinality as p(image_id, position)
            """,
            new { id, images = images.ToArray() }, transaction);
        await connection.ExecuteAsync(
            "insert into labeling_task_labelers (task_id, user_id) select @id, unnest(@users)",
            new { id, users = labelers.Select(l => l.Id).ToArray() }, transaction);
        await transaction.CommitAsync();

        var task = await connection.QuerySingleAsync<TaskRow>(TaskSelect + " where t.id = @id", new { id, me = user.UserId() });
        return TypedResults.Created($"/api/labeling/tasks/{id}", await ResponseAsync(connection, task, user.UserId()));
    }

    public static async Task<Ok<LabelingTaskResponse[]>> List(ClaimsPrincipal user, NpgsqlDataSource db)
    {
        var me = user.UserId();
        await using var connection = await db.OpenConnectionAsync();
        var tasks = await connection.QueryAsync<TaskRow>(
            TaskSelect + " where me.user_id is not null or @admin order by t.id desc", new { me, admin = user.IsInRole(Roles.Admin) });
        var responses = new List<LabelingTaskResponse>();
        foreach (var task in tasks) responses.Add(await ResponseAsync(connection, task, me));
        return TypedResults.Ok(responses.ToArray());
    }

    public static async Task<Results<Ok<LabelingTaskResponse>, ProblemHttpResult>> Get(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: false);
        if (task is null) return NoTask(id);
        return TypedResults.Ok(await ResponseAsync(connection, task, user.UserId()));
    }

    public static async Task<Results<Ok<TaskProgressResponse>, ProblemHttpResult>> Progress(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: false);
        if (task is null) return NoTask(id);
        return TypedResults.Ok(new TaskProgressResponse(id, (await ProgressAsync(connection, task, null)).ToArray()));
    }

    public static async Task<Results<Ok<LabelingItem>, ProblemHttpResult>> GetItem(
        long id, int position, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var me = user.UserId();
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: true);
        if (task is null) return NoTask(id);
        var imageId = await ImageAtAsync(connection, id, position);
        if (imageId is null) return Problems.NotFound($"Task {id} has no image at position {position}.");

        await using var transaction = await connection.BeginTransactionAsync();
        if (task.SubmittedAt is null)
        {
            // One clock runs at a time: opening an image pauses the caller's other open images and resumes this one.
            await connection.ExecuteAsync(
                """
                update labeling_answers set paused_at = @now
                where task_id = @id and user_id = @me and image_id <> @imageId and answered_at is null and paused_at is null;
                insert into labeling_answers (task_id, user_id, image_id, started_at) values (@id, @me, @imageId, @now)
                on conflict (task_id, user_id, image_id) do update
                set paused_seconds = labeling_answers.paused_seconds + greatest(0, extract(epoch from @now - labeling_answers.paused_at)),
                    paused_at = null
                where labeling_answers.paused_at is not null
                """,
                new { id, me, imageId, now }, transaction);
        }
        var state = await connection.QuerySingleOrDefaultAsync<AnswerState>(
            "select started_at, paused_at is not null as paused, wnid from labeling_answers where task_id = @id and user_id = @me and image_id = @imageId",
            new { id, me, imageId }, transaction);
        await transaction.CommitAsync();

        TrainingFeedback? feedback = null;
        if (task.Mode == LabelingModes.Training && state?.Wnid is { } answer)
            feedback = await FeedbackAsync(connection, task, me, imageId.Value, position, answer, partReview: false);
        return TypedResults.Ok(new LabelingItem
        {
            TaskId = id,
            Position = position,
            Part = PartOf(position, task.PartSize),
            ImageId = imageId.Value,
            FileUrl = $"/api/images/{imageId}/file",
            Answer = state?.Wnid,
            StartedAt = state?.StartedAt ?? now.UtcDateTime,
            Paused = state?.Paused ?? false,
            Submitted = task.SubmittedAt is not null,
            Feedback = feedback,
        });
    }

    private sealed record AnswerState
    {
        public required DateTime StartedAt { get; init; }
        public required bool Paused { get; init; }
        public required string? Wnid { get; init; }
    }

    public static async Task<Results<Ok<AnswerResponse>, ProblemHttpResult>> Answer(
        long id, int position, AnswerRequest request, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var me = user.UserId();
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: true);
        if (task is null) return NoTask(id);
        if (task.SubmittedAt is not null) return Problems.Conflict("Task submitted", $"Your answers to task {id} are submitted and can no longer change.");
        var imageId = await ImageAtAsync(connection, id, position);
        if (imageId is null) return Problems.NotFound($"Task {id} has no image at position {position}.");
        var inSpace = await connection.ExecuteScalarAsync<bool>(
            """
            select exists (select 1 from label_space_classes c join datasets d on d.label_space_id = c.label_space_id
                           where d.id = @DatasetId and c.wnid = @Wnid)
            """,
            new { task.DatasetId, request.Wnid });
        if (!inSpace) return Problems.Unprocessable("Not a class", "wnid", $"'{request.Wnid}' is not a class of '{task.Dataset}'.");

        // The time of an image is its active time until the first answer; changing the answer later keeps it.
        // Times come from the clock service rather than the database's now(), so that tests can set them.
        var seconds = await connection.ExecuteScalarAsync<double>(
            """
            insert into labeling_answers (task_id, user_id, image_id, answered_at, wnid, seconds)
            values (@id, @me, @imageId, @now, @Wnid, 0)
            on conflict (task_id, user_id, image_id) do update
            set wnid = excluded.wnid, answered_at = @now, paused_at = null,
                changes = labeling_answers.changes + (labeling_answers.wnid is not null)::int,
                seconds = coalesce(labeling_answers.seconds, greatest(0,
                    extract(epoch from coalesce(labeling_answers.paused_at, @now) - labeling_answers.started_at)
                    - labeling_answers.paused_seconds))
            returning seconds
            """,
            new { id, me, imageId, request.Wnid, now = clock.GetUtcNow() });

        TrainingFeedback? feedback = null;
        if (task.Mode == LabelingModes.Training)
            feedback = await FeedbackAsync(connection, task, me, imageId.Value, position, request.Wnid, partReview: true);
        var next = await NextPositionAsync(connection, id, me, position);
        return TypedResults.Ok(new AnswerResponse { Position = position, Wnid = request.Wnid, Seconds = seconds, NextPosition = next, Feedback = feedback });
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Pause(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: true);
        if (task is null) return NoTask(id);
        await connection.ExecuteAsync(
            "update labeling_answers set paused_at = @now where task_id = @id and user_id = @me and answered_at is null and paused_at is null",
            new { id, me = user.UserId(), now = clock.GetUtcNow() });
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<LabelingTaskResponse>, ProblemHttpResult>> Submit(
        long id, ClaimsPrincipal user, NpgsqlDataSource db, PredictionsCache predictionsCache, ILoggerFactory loggers)
    {
        var me = user.UserId();
        await using var connection = await db.OpenConnectionAsync();
        var task = await FindAsync(connection, id, user, labelerOnly: true);
        if (task is null) return NoTask(id);
        // The submit and its publication are one transaction: after a crash the task is submittable again or published.
        List<long> replaced = [];
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            // Submits of one task take turns, so that the last labeler's sees every other one's and publishes them all.
            var owner = await connection.ExecuteScalarAsync<long>(
                "select created_by from labeling_tasks where id = @id for update", new { id }, transaction);
            var submitted = await connection.ExecuteAsync(
                "update labeling_task_labelers set submitted_at = now() where task_id = @id and user_id = @me and submitted_at is null",
                new { id, me }, transaction);
            if (submitted == 0) return Problems.Conflict("Task submitted", $"Your answers to task {id} are submitted already.");
            if (task.Mode == LabelingModes.Evaluation)
                replaced = await HumanPredictions.PublishAsync(connection, transaction, task.DatasetId, owner,
                    loggers.CreateLogger(typeof(HumanPredictions)));
            await transaction.CommitAsync();
        }
        foreach (var upload in replaced) predictionsCache.EvictUpload(upload);
        var updated = await connection.QuerySingleAsync<TaskRow>(TaskSelect + " where t.id = @id", new { id, me });
        return TypedResults.Ok(await ResponseAsync(connection, updated, me));
    }

    /// <param name="dataset">Dataset slug.</param>
    public static async Task<Results<Ok<TimingResponse>, ProblemHttpResult>> Timing(string dataset, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var datasetId = await connection.QuerySingleOrDefaultAsync<long?>("select id from datasets where slug = @dataset", new { dataset });
        if (datasetId is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        // The timed answers of the dataset's evaluation tasks (a: answers, t: tasks), without and with their labeler (u).
        const string Timed = "t.dataset_id = @datasetId and t.mode = 'evaluation' and a.seconds is not null";
        const string Answers = $"from labeling_answers a join labeling_tasks t on t.id = a.task_id where {Timed}";
        const string AnswersByLabeler =
            $"from labeling_answers a join labeling_tasks t on t.id = a.task_id join users u on u.id = a.user_id where {Timed}";
        var labelers = await connection.QueryAsync<LabelerTiming>(
            $"""
             select u.name as labeler, count(*)::int as images, percentile_cont(0.5) within group (order by a.seconds) as median_seconds
             {AnswersByLabeler}
             group by u.name order by u.name
             """,
            new { datasetId });
        var images = await connection.QuerySingleAsync<(int Labeled, int Fast)>(
            $"""
             select count(*)::int, count(*) filter (where median < @fast)::int
             from (select percentile_cont(0.5) within group (order by a.seconds) as median {Answers} group by a.image_id) m
             """,
            new { datasetId, fast = HumanPredictions.FastSeconds });
        return TypedResults.Ok(new TimingResponse
        {
            Dataset = dataset, Labelers = labelers.ToArray(), LabeledImages = images.Labeled, FastImages = images.Fast,
        });
    }

    // A labeler sees only their own tasks; to anyone else a task does not exist (admins see every task but answer
    // only in their own).
    private static async Task<TaskRow?> FindAsync(NpgsqlConnection connection, long id, ClaimsPrincipal user, bool labelerOnly)
    {
        var task = await connection.QuerySingleOrDefaultAsync<TaskRow>(TaskSelect + " where t.id = @id", new { id, me = user.UserId() });
        if (task is null) return null;
        if (task.IsLabeler) return task;
        return !labelerOnly && user.IsInRole(Roles.Admin) ? task : null;
    }

    private static ProblemHttpResult NoTask(long id) => Problems.NotFound($"Labeling task {id} does not exist or is not yours.");

    private static int PartOf(int position, int partSize) => (position - 1) / partSize + 1;

    private static Task<long?> ImageAtAsync(NpgsqlConnection connection, long id, int position) =>
        connection.QuerySingleOrDefaultAsync<long?>(
            "select image_id from labeling_task_images where task_id = @id and position = @position", new { id, position });

    /// <summary>The first unanswered position after <paramref name="after"/>, else the first unanswered one.</summary>
    private static Task<int?> NextPositionAsync(NpgsqlConnection connection, long id, long me, int after) =>
        connection.QuerySingleOrDefaultAsync<int?>(
            """
            select i.position from labeling_task_images i
            where i.task_id = @id and not exists (
                select 1 from labeling_answers a where a.task_id = @id and a.user_id = @me and a.image_id = i.image_id and a.wnid is not null)
            order by (i.position <= @after), i.position
            limit 1
            """,
            new { id, me, after });

    private static async Task<LabelingTaskResponse> ResponseAsync(NpgsqlConnection connection, TaskRow task, long me)
    {
        var mine = task.IsLabeler ? (await ProgressAsync(connection, task, me)).SingleOrDefault() : null;
        return new LabelingTaskResponse
        {
            Id = task.Id,
            Name = task.Name,
            Dataset = task.Dataset,
            Mode = task.Mode,
            PartSize = task.PartSize,
            Images = task.Images,
            Labelers = task.Labelers,
            CreatedAt = task.CreatedAt,
            Mine = mine,
            NextPosition = task.IsLabeler ? await NextPositionAsync(connection, task.Id, me, 0) : null,
        };
    }

    private sealed record ProgressRow
    {
        public required string Labeler { get; init; }
        public required DateTime? SubmittedAt { get; init; }
        public required int Position { get; init; }
        public required bool Answered { get; init; }
        public required bool Correct { get; init; }
        public required double? Seconds { get; init; }
    }

    private static async Task<List<LabelerProgress>> ProgressAsync(NpgsqlConnection connection, TaskRow task, long? userId)
    {
        var rows = await connection.QueryAsync<ProgressRow>(
            """
            select u.name as labeler, l.submitted_at, i.position, a.wnid is not null as answered, a.seconds,
                   exists (select 1 from review_items r where r.image_id = i.image_id and r.wnid = a.wnid and r.state = 'correct') as correct
            from labeling_task_labelers l
            join users u on u.id = l.user_id
            join labeling_task_images i on i.task_id = l.task_id
            left join labeling_answers a on a.task_id = l.task_id and a.user_id = l.user_id and a.image_id = i.image_id and a.wnid is not null
            where l.task_id = @Id and (@userId::bigint is null or l.user_id = @userId)
            order by u.name, i.position
            """,
            new { task.Id, userId });
        var training = task.Mode == LabelingModes.Training;
        var parts = (task.Images + task.PartSize - 1) / task.PartSize;
        return rows.GroupBy(r => r.Labeler).Select(labeler =>
        {
            var answered = labeler.Where(r => r.Answered).ToList();
            var byPart = labeler.GroupBy(r => PartOf(r.Position, task.PartSize)).OrderBy(p => p.Key).ToList();
            var seconds = answered.Where(r => r.Seconds is not null).Select(r => r.Seconds!.Value).Order().ToList();
            return new LabelerProgress
            {
                Labeler = labeler.Key,
                Answered = answered.Count,
                Total = task.Images,
                PartsCompleted = byPart.Count(p => p.All(r => r.Answered)),
                Parts = parts,
                Accuracy = training && answered.Count > 0 ? answered.Count(r => r.Correct) / (double)answered.Count : null,
                PartAccuracy = training
                    ? byPart.Select(p => p.Any(r => r.Answered) ? p.Count(r => r.Answered && r.Correct) / (double)p.Count(r => r.Answered) : (double?)null).ToArray()
                    : [],
                MedianSeconds = Median(seconds),
                SubmittedAt = labeler.First().SubmittedAt,
            };
        }).ToList();
    }

    private static double? Median(List<double> sorted) => sorted.Count == 0 ? null
        : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    private sealed record GradedAnswer
    {
        public required int Position { get; init; }
        public required long ImageId { get; init; }
        public required string Wnid { get; init; }
        public required string[] CorrectLabels { get; init; }
    }

    private static async Task<TrainingFeedback> FeedbackAsync(
        NpgsqlConnection connection, TaskRow task, long me, long imageId, int position, string answer, bool partReview)
    {
        var part = PartOf(position, task.PartSize);
        var answers = (await connection.QueryAsync<GradedAnswer>(
            """
            select i.position, i.image_id, a.wnid,
                   array(select r.wnid from review_items r where r.image_id = i.image_id and r.state = 'correct' order by r.wnid) as correct_labels
            from labeling_task_images i
            join labeling_answers a on a.task_id = i.task_id and a.user_id = @me and a.image_id = i.image_id and a.wnid is not null
            where i.task_id = @Id
            order by i.position
            """,
            new { task.Id, me })).ToList();
        var correctLabels = (await connection.QueryAsync<string>(
            "select wnid from review_items where image_id = @imageId and state = 'correct' order by wnid", new { imageId })).ToArray();
        var involved = correctLabels.Append(answer).Distinct().ToArray();
        var notes = await connection.QueryAsync<GuideNote>(
            """
            select id, wnid, other_wnid, body, updated_at from guide_notes
            where wnid = any(@involved) and (other_wnid is null or other_wnid = any(@involved))
            order by wnid, other_wnid nulls first
            """,
            new { involved });
        var partStart = (part - 1) * task.PartSize + 1;
        var partEnd = Math.Min(part * task.PartSize, task.Images);
        var inPart = answers.Where(a => a.Position >= partStart && a.Position <= partEnd).ToList();
        var partComplete = inPart.Count == partEnd - partStart + 1;
        return new TrainingFeedback
        {
            Correct = correctLabels.Contains(answer),
            CorrectLabels = correctLabels,
            Notes = notes.ToArray(),
            RunningAccuracy = answers.Count == 0 ? 0 : answers.Count(a => a.CorrectLabels.Contains(a.Wnid)) / (double)answers.Count,
            PartComplete = partComplete,
            PartMistakes = partReview && partComplete
                ? inPart.Where(a => !a.CorrectLabels.Contains(a.Wnid))
                    .Select(a => new Mistake { Position = a.Position, ImageId = a.ImageId, Answer = a.Wnid, CorrectLabels = a.CorrectLabels })
                    .ToArray()
                : null,
        };
    }
}
