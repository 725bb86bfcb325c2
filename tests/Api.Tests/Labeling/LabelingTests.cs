using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Features.Labeling;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;
using static Relabel.Api.Tests.Review.ReviewTestData;

namespace Relabel.Api.Tests.Labeling;

/// <summary>The app with a clock that the tests move: labeling seconds are exact, whatever the machine's speed.</summary>
public sealed class LabelingFixture : ApiFixture
{
    public TestClock Clock { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

public sealed class LabelingTests(LabelingFixture fixture) : IClassFixture<LabelingFixture>
{
    private const string Tench = "n01440764", Goldfish = "n01443537", Chihuahua = "n02085620", ShihTzu = "n02086240";

    private RelabelApp App => fixture.App;
    private TestClock Clock => fixture.Clock;

    private async Task<JsonElement> CreateTaskAsync(object request)
    {
        using var admin = App.Admin();
        var response = await admin.PostAsJsonAsync("/api/labeling/tasks", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task<List<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, parameters)).ToList();
    }

    private async Task<long[]> TaskImagesAsync(long taskId) =>
        (await QueryAsync<long>("select image_id from labeling_task_images where task_id = @taskId order by position", new { taskId })).ToArray();

    private static async Task<JsonElement> AnswerAsync(HttpClient client, long task, int position, string wnid)
    {
        var response = await client.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/{position}", new { wnid });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private async Task DecideCorrectAsync(long imageId, params string[] wnids)
    {
        await using var connection = await App.Db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "insert into review_items (image_id, wnid, state) select @imageId, unnest(@wnids), 'correct'", new { imageId, wnids });
    }

    [Fact]
    public async Task A_sample_is_class_balanced_and_the_same_seed_gives_the_same_images_in_the_same_order()
    {
        var labels = Enumerable.Repeat(Tench, 10).Concat(Enumerable.Repeat(Goldfish, 10)).Concat(Enumerable.Repeat(Chihuahua, 10))
            .Concat(Enumerable.Repeat(ShihTzu, 2)).ToArray();
        await CreateDatasetAsync(App, "sample", labels);
        using var _ = await App.UserAsync("sample-ann");

        var first = await CreateTaskAsync(new { name = "s1", dataset = "sample", mode = "evaluation", labelers = new[] { "sample-ann" }, sampleSize = 14, seed = 7 });
        var again = await CreateTaskAsync(new { name = "s2", dataset = "sample", mode = "evaluation", labelers = new[] { "sample-ann" }, sampleSize = 14, seed = 7 });
        var other = await CreateTaskAsync(new { name = "s3", dataset = "sample", mode = "evaluation", labelers = new[] { "sample-ann" }, sampleSize = 14, seed = 8 });
        Assert.Equal(14, first.GetProperty("images").GetInt32());

        var images = await TaskImagesAsync(first.GetProperty("id").GetInt64());
        Assert.Equal(images, await TaskImagesAsync(again.GetProperty("id").GetInt64()));
        Assert.NotEqual(images, await TaskImagesAsync(other.GetProperty("id").GetInt64()));
        var perClass = (await QueryAsync<(string Wnid, int Count)>(
            "select original_wnid, count(*)::int from images where id = any(@images) group by original_wnid", new { images })).ToDictionary(r => r.Wnid, r => r.Count);
        // Shih-tzu has only two images; the 12 others split evenly over the three other classes.
        Assert.Equal(2, perClass[ShihTzu]);
        Assert.Equal([4, 4, 4], new[] { perClass[Tench], perClass[Goldfish], perClass[Chihuahua] });
    }

    [Fact]
    public void The_sampler_keeps_classes_within_one_image_of_each_other()
    {
        var candidates = Enumerable.Range(0, 300).Select(i => new SampleCandidate(i, $"c{i % 7}")).ToList();
        var sample = TaskSampler.ClassBalanced(candidates, 50, 3);
        Assert.Equal(50, sample.Distinct().Count());
        var counts = sample.GroupBy(id => id % 7).Select(g => g.Count()).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1);
        Assert.Equal(sample, TaskSampler.ClassBalanced(candidates, 50, 3));
    }

    [Fact]
    public async Task Opening_pausing_and_answering_record_the_active_seconds_and_a_changed_answer_keeps_them()
    {
        await CreateDatasetAsync(App, "timing", Tench, Goldfish);
        using var ann = await App.UserAsync("timing-ann");
        var task = (await CreateTaskAsync(new { name = "t", dataset = "timing", mode = "evaluation", labelers = new[] { "timing-ann" }, fileNames = new[] { "img_1", "img_2" } }))
            .GetProperty("id").GetInt64();

        var item = await (await ann.GetAsync($"/api/labeling/tasks/{task}/items/1")).JsonAsync();
        Assert.Equal(JsonValueKind.Null, item.GetProperty("answer").ValueKind);
        // 100 s on screen, of which 40 s paused: 30 s, a pause of 40 s, 30 s more.
        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await ann.PostAsync($"/api/labeling/tasks/{task}/pause", null)).StatusCode);
        Clock.Advance(TimeSpan.FromSeconds(40));
        Assert.False((await (await ann.GetAsync($"/api/labeling/tasks/{task}/items/1")).JsonAsync()).GetProperty("paused").GetBoolean());
        Clock.Advance(TimeSpan.FromSeconds(30));

        var answer = await AnswerAsync(ann, task, 1, Goldfish);
        Assert.Equal(60, answer.GetProperty("seconds").GetDouble());
        Assert.Equal(2, answer.GetProperty("nextPosition").GetInt32());
        Clock.Advance(TimeSpan.FromSeconds(15));
        var changed = await AnswerAsync(ann, task, 1, Tench);
        Assert.Equal(60, changed.GetProperty("seconds").GetDouble());
        Assert.Equal(1, await App.ScalarAsync<int>("select changes from labeling_answers where task_id = @task and wnid = @Tench", new { task, Tench }));
        Assert.Equal(Tench, (await (await ann.GetAsync($"/api/labeling/tasks/{task}/items/1")).JsonAsync()).GetProperty("answer").GetString());

        var outside = await ann.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/2", new { wnid = "n02084071" });
        await outside.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(HttpStatusCode.OK, (await ann.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);
        var late = await ann.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/2", new { wnid = Tench });
        await late.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Evaluation_answers_become_partial_top1_predictions_of_human_models_once_every_labeler_submitted_with_fast_images_as_a_set()
    {
        var images = await CreateDatasetAsync(App, "humans", Tench, Tench, Chihuahua, Goldfish);
        using var ann = await App.UserAsync("humans-ann");
        using var bob = await App.UserAsync("humans-bob");
        var task = (await CreateTaskAsync(new { name = "e", dataset = "humans", mode = "evaluation", labelers = new[] { "humans-ann", "humans-bob" }, fileNames = new[] { "img_1", "img_2", "img_3" } }))
            .GetProperty("id").GetInt64();

        string[] annAnswers = [Tench, Goldfish, Chihuahua], bobAnswers = [Tench, Tench, ShihTzu];
        // Seconds per image: img_1 10/20 (fast), img_2 50/80 (median 65, slow), img_3 30/40 (fast).
        int[] annSeconds = [10, 50, 30], bobSeconds = [20, 80, 40];
        for (var p = 1; p <= 3; p++)
        {
            foreach (var (client, answers, seconds) in new[] { (ann, annAnswers, annSeconds), (bob, bobAnswers, bobSeconds) })
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/labeling/tasks/{task}/items/{p}")).StatusCode);
                Clock.Advance(TimeSpan.FromSeconds(seconds[p - 1]));
                Assert.Equal(seconds[p - 1], (await AnswerAsync(client, task, p, answers[p - 1])).GetProperty("seconds").GetDouble());
            }
        }

        Assert.Equal(HttpStatusCode.OK, (await ann.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);
        // Bob is still labeling: Ann's answers are not predictions anyone can read yet.
        Assert.Equal(HttpStatusCode.NotFound, (await App.Anonymous().GetAsync("/api/models/human-humans-ann")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);

        var model = await (await App.Anonymous().GetAsync("/api/models/human-humans-ann")).JsonAsync();
        Assert.Equal("human", model.GetProperty("kind").GetString());
        Assert.Equal(["humans"], model.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));
        var upload = Assert.Single(await QueryAsync<(int Rows, short K, bool Partial)>(
            """
            select u.rows, u.k, u.partial from prediction_sets s join prediction_uploads u on u.id = s.upload_id
            join models m on m.id = s.model_id where m.slug = 'human-humans-bob'
            """));
        Assert.Equal((3, (short)1, true), upload);
        // Graded like a model: top-1 against the original labels here, Ann gets img_1 and img_3 right.
        var predictions = await (await App.Anonymous().GetAsync("/api/models/human-humans-ann/predictions/humans?format=json")).Content.ReadAsStringAsync();
        Assert.Contains(Chihuahua, predictions);
        Assert.Contains("img_2", predictions);
        Assert.DoesNotContain("img_4", predictions);

        var sets = (await QueryAsync<(string Name, string File)>(
            "select s.name, i.file_name from image_sets s join image_set_members m on m.image_set_id = s.id join images i on i.id = m.image_id " +
            "where s.dataset_id = (select id from datasets where slug = 'humans') order by 1, 2"));
        Assert.Equal([("humans-fast", "img_1"), ("humans-fast", "img_3"), ("humans-labeled", "img_1"), ("humans-labeled", "img_2"), ("humans-labeled", "img_3")], sets);

        using var admin = App.Admin();
        var timing = await (await admin.GetAsync("/api/labeling/timing?dataset=humans")).JsonAsync();
        Assert.Equal(3, timing.GetProperty("labeledImages").GetInt32());
        Assert.Equal(2, timing.GetProperty("fastImages").GetInt32());
        var medians = timing.GetProperty("labelers").EnumerateArray().ToDictionary(l => l.GetProperty("labeler").GetString()!, l => l.GetProperty("medianSeconds").GetDouble());
        Assert.Equal(30, medians["humans-ann"]);
        Assert.Equal(40, medians["humans-bob"]);
        _ = images;
    }

    [Fact]
    public async Task Training_answers_get_feedback_at_once_with_notes_running_accuracy_and_a_review_of_the_part()
    {
        var images = await CreateDatasetAsync(App, "training", Tench, Chihuahua, Goldfish, ShihTzu);
        await DecideCorrectAsync(images["img_1"], Tench);
        await DecideCorrectAsync(images["img_2"], Chihuahua, ShihTzu);
        await DecideCorrectAsync(images["img_3"], Goldfish);
        using var admin = App.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, otherWnid = Goldfish, body = "Tench are green." })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = ShihTzu, body = "Long hair." })).StatusCode);
        using var ann = await App.UserAsync("training-ann");

        // img_4 has no decided labels: a training task cannot take it.
        var undecided = await admin.PostAsJsonAsync("/api/labeling/tasks", new { name = "t", dataset = "training", mode = "training", labelers = new[] { "training-ann" }, fileNames = new[] { "img_4" } });
        await undecided.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var task = await CreateTaskAsync(new { name = "t", dataset = "training", mode = "training", labelers = new[] { "training-ann" }, partSize = 2, fileNames = new[] { "img_1", "img_2", "img_3" } });
        var id = task.GetProperty("id").GetInt64();
        Assert.Equal(JsonValueKind.Null, task.GetProperty("mine").ValueKind);
        var annsTask = await (await ann.GetAsync($"/api/labeling/tasks/{id}")).JsonAsync();
        Assert.Equal(2, annsTask.GetProperty("mine").GetProperty("parts").GetInt32());

        var wrong = (await AnswerAsync(ann, id, 1, Goldfish)).GetProperty("feedback");
        Assert.False(wrong.GetProperty("correct").GetBoolean());
        Assert.Equal([Tench], wrong.GetProperty("correctLabels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(["Tench are green."], wrong.GetProperty("notes").EnumerateArray().Select(n => n.GetProperty("body").GetString()));
        Assert.Equal(0, wrong.GetProperty("runningAccuracy").GetDouble());
        Assert.False(wrong.GetProperty("partComplete").GetBoolean());

        var right = (await AnswerAsync(ann, id, 2, ShihTzu)).GetProperty("feedback");
        Assert.True(right.GetProperty("correct").GetBoolean());
        Assert.Equal(["Long hair."], right.GetProperty("notes").EnumerateArray().Select(n => n.GetProperty("body").GetString()));
        Assert.Equal(0.5, right.GetProperty("runningAccuracy").GetDouble());
        Assert.True(right.GetProperty("partComplete").GetBoolean());
        var mistake = Assert.Single(right.GetProperty("partMistakes").EnumerateArray());
        Assert.Equal(1, mistake.GetProperty("position").GetInt32());
        Assert.Equal(Goldfish, mistake.GetProperty("answer").GetString());

        await AnswerAsync(ann, id, 3, Goldfish);
        var progress = await (await admin.GetAsync($"/api/labeling/tasks/{id}/progress")).JsonAsync();
        var mine = Assert.Single(progress.GetProperty("labelers").EnumerateArray());
        Assert.Equal(3, mine.GetProperty("answered").GetInt32());
        Assert.Equal(2, mine.GetProperty("partsCompleted").GetInt32());
        Assert.Equal([0.5, 1.0], mine.GetProperty("partAccuracy").EnumerateArray().Select(a => a.GetDouble()));
        Assert.Equal(2.0 / 3, mine.GetProperty("accuracy").GetDouble(), 6);
    }

    [Fact]
    public async Task Invalid_task_requests_are_refused_with_the_reason_and_create_nothing()
    {
        await CreateDatasetAsync(App, "invalid", Tench, Goldfish);
        using var _ = await App.UserAsync("invalid-ann");
        using var admin = App.Admin();
        var valid = new Dictionary<string, object?>
        {
            ["name"] = "invalid", ["dataset"] = "invalid", ["mode"] = "evaluation", ["labelers"] = new[] { "invalid-ann" },
            ["fileNames"] = new[] { "img_1" },
        };
        Dictionary<string, object?> With(params (string Key, object? Value)[] changes)
        {
            var request = new Dictionary<string, object?>(valid);
            foreach (var (key, value) in changes) request[key] = value;
            return request;
        }
        var cases = new (string Case, Dictionary<string, object?> Request, HttpStatusCode Status, string Mentions)[]
        {
            ("no name", With(("name", "")), HttpStatusCode.UnprocessableEntity, "Name"),
            ("unknown mode", With(("mode", "exam")), HttpStatusCode.UnprocessableEntity, "mode"),
            ("no labelers", With(("labelers", Array.Empty<string>())), HttpStatusCode.UnprocessableEntity, "Labelers"),
            ("a labeler twice", With(("labelers", new[] { "invalid-ann", "invalid-ann" })), HttpStatusCode.UnprocessableEntity, "each once"),
            ("part size 0", With(("partSize", 0)), HttpStatusCode.UnprocessableEntity, "PartSize"),
            ("a list and a sample", With(("sampleSize", 2)), HttpStatusCode.UnprocessableEntity, "fileNames"),
            ("no images", With(("fileNames", null)), HttpStatusCode.UnprocessableEntity, "images"),
            ("an image twice", With(("fileNames", new[] { "img_1", "img_1" })), HttpStatusCode.UnprocessableEntity, "fileNames"),
            ("unknown dataset", With(("dataset", "no-such")), HttpStatusCode.NotFound, "no-such"),
            ("unknown labeler", With(("labelers", new[] { "invalid-ann", "nobody" })), HttpStatusCode.UnprocessableEntity, "nobody"),
            ("unknown image", With(("fileNames", new[] { "img_1", "img_9" })), HttpStatusCode.UnprocessableEntity, "img_9"),
            ("unknown subset", With(("fileNames", null), ("subset", "none")), HttpStatusCode.NotFound, "none"),
            ("training without decided labels", With(("mode", "training")), HttpStatusCode.UnprocessableEntity, "decided"),
        };
        foreach (var (name, request, status, mentions) in cases)
        {
            var response = await admin.PostAsJsonAsync("/api/labeling/tasks", request);
            Assert.True(response.StatusCode == status, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var problem = await response.ProblemAsync(status);
            Assert.Contains(mentions, problem.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        using var labeler = await App.UserAsync("invalid-bob");
        var forbidden = await labeler.PostAsJsonAsync("/api/labeling/tasks", valid);
        await forbidden.ProblemAsync(HttpStatusCode.Forbidden);

        Assert.Equal(0, await App.ScalarAsync<long>(
            "select count(*) from labeling_tasks t join datasets d on d.id = t.dataset_id where d.slug = 'invalid' or t.name = 'invalid'"));
        Assert.Equal(0, await App.ScalarAsync<long>(
            "select count(*) from labeling_task_labelers l join users u on u.id = l.user_id where u.name in ('invalid-ann', 'invalid-bob')"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/labeling/tasks", valid)).StatusCode);
    }

    [Fact]
    public async Task A_labeler_sees_only_their_tasks_and_only_their_own_answers()
    {
        await CreateDatasetAsync(App, "private", Tench, Goldfish);
        using var ann = await App.UserAsync("private-ann");
        using var bob = await App.UserAsync("private-bob");
        using var eve = await App.UserAsync("private-eve", "reviewer");
        var id = (await CreateTaskAsync(new { name = "p", dataset = "private", mode = "evaluation", labelers = new[] { "private-ann", "private-bob" }, fileNames = new[] { "img_1", "img_2" } }))
            .GetProperty("id").GetInt64();
        await AnswerAsync(ann, id, 1, Goldfish);

        Assert.Empty((await (await eve.GetAsync("/api/labeling/tasks")).JsonAsync()).EnumerateArray());
        await (await eve.GetAsync($"/api/labeling/tasks/{id}")).ProblemAsync(HttpStatusCode.NotFound);
        await (await eve.GetAsync($"/api/labeling/tasks/{id}/items/1")).ProblemAsync(HttpStatusCode.NotFound);
        await (await eve.PutAsJsonAsync($"/api/labeling/tasks/{id}/items/1", new { wnid = Tench })).ProblemAsync(HttpStatusCode.NotFound);
        await (await bob.GetAsync($"/api/labeling/tasks/{id}/progress")).ProblemAsync(HttpStatusCode.Forbidden);

        var bobsView = await (await bob.GetAsync($"/api/labeling/tasks/{id}/items/1")).JsonAsync();
        Assert.Equal(JsonValueKind.Null, bobsView.GetProperty("answer").ValueKind);
        var bobsTask = Assert.Single((await (await bob.GetAsync("/api/labeling/tasks")).JsonAsync()).EnumerateArray());
        Assert.Equal(0, bobsTask.GetProperty("mine").GetProperty("answered").GetInt32());
        Assert.Equal("private-bob", bobsTask.GetProperty("mine").GetProperty("labeler").GetString());
        Assert.Equal(1, bobsTask.GetProperty("nextPosition").GetInt32());
    }
}

public sealed class GuideTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task The_guide_places_every_note_on_its_wordnet_path_and_filters_by_branch()
    {
        using var admin = fixture.App.Admin();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = "n02085620", body = "Tiny dog." })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = "n01443537", otherWnid = "n01440764", body = "Colour." })).StatusCode);
        using var reader = await fixture.App.UserAsync("guide-reader");

        var all = (await (await reader.GetAsync("/api/guide")).JsonAsync()).EnumerateArray().ToList();
        Assert.Equal(2, all.Count);
        var chihuahua = all.Single(e => e.GetProperty("note").GetProperty("wnid").GetString() == "n02085620");
        var path = chihuahua.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("wnid").GetString()).ToList();
        Assert.Equal("n00001740", path[0]);
        Assert.Equal("n02085620", path[^1]);
        Assert.Contains("n02084071", path);
        Assert.Equal("Chihuahua", chihuahua.GetProperty("lemma").GetString());

        var dogs = (await (await reader.GetAsync("/api/guide?under=n02084071")).JsonAsync()).EnumerateArray().ToList();
        Assert.Equal("Tiny dog.", Assert.Single(dogs).GetProperty("note").GetProperty("body").GetString());
        var fish = Assert.Single((await (await reader.GetAsync("/api/guide?under=n01440764")).JsonAsync()).EnumerateArray());
        Assert.Equal(("tench", "goldfish"), (fish.GetProperty("lemma").GetString(), fish.GetProperty("otherLemma").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.App.Anonymous().GetAsync("/api/guide")).StatusCode);
    }
}

public sealed class HumanLeaderboardTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Tench = "n01440764", Goldfish = "n01443537", Chihuahua = "n02085620";

    private static JsonElement Row(JsonElement board, string slug) =>
        board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == slug);

    [Fact]
    public async Task Humans_are_graded_like_models_and_the_leaderboard_restricts_everyone_to_the_images_humans_labeled()
    {
        var app = fixture.App;
        await CreateDatasetAsync(app, "fair", Tench, Tench, Chihuahua, Goldfish);
        // A model right on the three images the humans will label and wrong on the fourth.
        await AddPredictionsAsync(app, "fair", "fair-model", new Dictionary<string, string>
            { ["img_1"] = Tench, ["img_2"] = Tench, ["img_3"] = Chihuahua, ["img_4"] = Tench });
        using var ann = await app.UserAsync("fair-ann");
        using var admin = app.Admin();
        var created = await admin.PostAsJsonAsync("/api/labeling/tasks",
            new { name = "f", dataset = "fair", mode = "evaluation", labelers = new[] { "fair-ann" }, fileNames = new[] { "img_1", "img_2", "img_3" } });
        var task = (await created.JsonAsync()).GetProperty("id").GetInt64();
        foreach (var (position, wnid) in new[] { (1, Tench), (2, Goldfish), (3, Chihuahua) })
            Assert.Equal(HttpStatusCode.OK, (await ann.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/{position}", new { wnid })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ann.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);

        var all = await (await app.Anonymous().GetAsync("/api/leaderboard?dataset=fair&metric=top1")).JsonAsync();
        Assert.Equal((2, 3), (Row(all, "human-fair-ann").GetProperty("top1").GetProperty("correct").GetInt64(), Row(all, "human-fair-ann").GetProperty("top1").GetProperty("total").GetInt64()));
        Assert.Equal(3, Row(all, "fair-model").GetProperty("top1").GetProperty("correct").GetInt64());
        Assert.Equal(4, Row(all, "fair-model").GetProperty("top1").GetProperty("total").GetInt64());

        var fair = await (await app.Anonymous().GetAsync("/api/leaderboard?dataset=fair&metric=top1&imageSet=humans-labeled")).JsonAsync();
        Assert.Equal("humans-labeled", fair.GetProperty("imageSet").GetString());
        Assert.Equal(1.0, Row(fair, "fair-model").GetProperty("top1").GetProperty("value").GetDouble());
        Assert.Equal(3, Row(fair, "fair-model").GetProperty("top1").GetProperty("total").GetInt64());
        Assert.Equal(2, Row(fair, "human-fair-ann").GetProperty("top1").GetProperty("correct").GetInt64());

        var missing = await app.Anonymous().GetAsync("/api/leaderboard?dataset=fair&imageSet=nothing");
        await missing.ProblemAsync(HttpStatusCode.NotFound);
    }
}
