using System.Net.Http.Json;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// A hand-built dataset of three classes (tench: an organism, chihuahua: a dog, and an object) with decided, unclear,
/// pending and problematic images, reviewed in two label versions, and a shifted copy of it.
/// </summary>
public sealed class LeaderboardTests(LeaderboardTests.Fixture fixture) : IClassFixture<LeaderboardTests.Fixture>
{
    public const string Tench = "n01440764", Chihuahua = "n02085620", Object = "n02704792";
    private static readonly string[] Classes = [Tench, Chihuahua, Object];

    // Image i: original class, and the top-1 of m1 (-1: not predicted) and m3. m2 predicts the original label everywhere.
    private static readonly short[] Original = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    private static readonly short[] M1 = [0, 1, 2, 1, 1, 1, 0, 2, 0, -1];
    private static readonly short[] M3 = [0, 0, 0, 0, 1, 1, 1, 2, 2, 0];

    public sealed class Fixture : ApiFixture
    {
        public long[] Images { get; private set; } = [];
        public long[] Shifted { get; private set; } = [];
        public JsonElement BeforeVersion2 { get; private set; }

        public async Task SeedAsync()
        {
            if (Images.Length > 0) return;
            using var admin = App.Admin();
            await TestData.CreateDatasetAsync(admin, "tiny", Classes);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets",
                new { slug = "tiny-v2", name = "tiny v2", labelSpaceOf = "tiny", shiftOf = "tiny" })).StatusCode);
            await Manifest(admin, "tiny", Original);
            await Manifest(admin, "tiny-v2", [0, 1, 2, 0]);
            var seed = new ScoringSeed(App.Db);
            Images = await seed.ImageIdsAsync("tiny");
            Shifted = await seed.ImageIdsAsync("tiny-v2");

            await seed.PredictionsAsync("tiny", "m1", "model", 1,
                Enumerable.Range(0, 10).Where(i => M1[i] >= 0).Select(i => (Images[i], new[] { M1[i] })));
            await seed.PredictionsAsync("tiny", "m2", "model", 1, Enumerable.Range(0, 10).Select(i => (Images[i], new[] { Original[i] })));
            await seed.PredictionsAsync("tiny-v2", "m1", "model", 1, Shifted.Select(id => (id, new short[] { 0 })));
            await seed.PredictionsAsync("tiny-v2", "m2", "model", 1, Shifted.Select((id, i) => (id, new short[] { (short)(i == 3 ? 1 : i) })));
            await seed.PredictionsAsync("tiny", "m3", "model", 1, Enumerable.Range(0, 10).Select(i => (Images[i], new[] { M3[i] })));
            await seed.PredictionsAsync("tiny-v2", "m3", "model", 1, Shifted.Select((id, i) => (id, new short[] { (short)(i == 1 ? 2 : 0) })));

            // Version 1: the verdicts of the hand-built example; image 3 is problematic.
            (int Image, string Wnid, string Reviewer, string Verdict)[] first =
            [
                (0, Tench, "r1", "correct"), (1, Tench, "r1", "correct"), (1, Chihuahua, "r1", "wrong"), (2, Tench, "r1", "correct"),
                (2, Object, "r1", "unclear"), (3, Tench, "r1", "correct"), (4, Chihuahua, "r1", "correct"), (6, Chihuahua, "r1", "correct"),
                (7, Object, "r1", "unclear"), (8, Object, "r1", "correct"), (8, Tench, "r1", "wrong"), (9, Object, "r1", "correct"),
            ];
            await seed.VersionAsync("tiny", first.Select(v => (Images[v.Image], v.Wnid, v.Reviewer, v.Verdict)), [(Images[3], true)]);
            using var client = App.Anonymous();
            BeforeVersion2 = await (await client.GetAsync("/api/leaderboard?dataset=tiny")).JsonAsync();

            // Version 2: a second reviewer overturns image 0 (the rule is 'latest'); image 5 is decided.
            await seed.VersionAsync("tiny", [(Images[0], Tench, "r2", "wrong"), (Images[5], Chihuahua, "r1", "correct")]);
        }

        private static async Task Manifest(HttpClient admin, string slug, short[] classes)
        {
            var csv = string.Concat(classes.Select((c, i) => $"{slug}_{i:D2}.jpg,{Classes[c]}\n"));
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(csv, Encoding.UTF8, "text/csv"))).StatusCode);
        }
    }

    private async Task<JsonElement> GetAsync(string url)
    {
        await fixture.SeedAsync();
        using var client = fixture.App.Anonymous();
        var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    private static JsonElement Row(JsonElement board, string slug) =>
        board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == slug);

    private static double D(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    [Fact]
    public async Task Strict_micro_multilabel_accuracy_counts_pending_wrong_with_bounds_coverage_and_a_Clopper_Pearson_interval()
    {
        var board = await GetAsync("/api/leaderboard?dataset=tiny&version=1");
        var ml = Row(board, "m1").GetProperty("multiLabel");
        // Decided: images 0 and 4 correct; 1 and 8 wrong; 2 and 7 unclear (wrong here). Pending: 5 and 6 (wrong too).
        // Problematic: 3. Not predicted: 9.
        Assert.Equal(2, ml.GetProperty("correct").GetInt64());
        Assert.Equal(6, ml.GetProperty("decided").GetInt64());
        Assert.Equal(2, ml.GetProperty("pending").GetInt64());
        Assert.Equal(8, ml.GetProperty("total").GetInt64());
        Assert.Equal(2.0 / 8, D(ml, "value"), 1e-12);
        Assert.Equal(2.0 / 6, D(ml, "decidedOnly"), 1e-12);
        Assert.Equal(2.0 / 8, D(ml, "boundLower"), 1e-12);
        Assert.Equal(4.0 / 8, D(ml, "boundUpper"), 1e-12);
        Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(2, 7, 0.025), D(ml, "lower"), 1e-9);
        Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(3, 6, 0.975), D(ml, "upper"), 1e-9);
        var m1 = Row(board, "m1");
        Assert.True(m1.GetProperty("provisional").GetBoolean());
        // m1 did not predict image 9: it is graded on what it predicted and not ranked.
        Assert.False(m1.GetProperty("complete").GetBoolean());
        Assert.Equal((8L, 9L), (m1.GetProperty("predicted").GetInt64(), m1.GetProperty("images").GetInt64()));
        Assert.Equal(JsonValueKind.Null, m1.GetProperty("rank").ValueKind);
        Assert.Equal(1, board.GetProperty("labelVersion").GetInt64());
        Assert.Equal(2, board.GetProperty("currentLabelVersion").GetInt64());
        Assert.Equal("micro", board.GetProperty("average").GetString());
        Assert.Contains("only 'correct' counts", board.GetProperty("definition").GetString());
        Assert.Contains("pending) counts wrong", board.GetProperty("definition").GetString());
    }

    [Fact]
    public async Task Lenient_per_class_accuracy_averages_classes_and_counts_unclear_correct()
    {
        var board = await GetAsync("/api/leaderboard?dataset=tiny&version=1&average=per-class&unclear=correct");
        var ml = Row(board, "m1").GetProperty("multiLabel");
        // Tench 2 of 3 right; chihuahua 1 of 3 (two pending); the object class 1 of 2.
        Assert.Equal((2.0 / 3 + 1.0 / 3 + 0.5) / 3, D(ml, "value"), 1e-12);
        Assert.Equal((2.0 / 3 + 1 + 0.5) / 3, D(ml, "decidedOnly"), 1e-12);
        Assert.Equal((2.0 / 3 + 1.0 / 3 + 0.5) / 3, D(ml, "boundLower"), 1e-12);
        Assert.Equal((2.0 / 3 + 1 + 0.5) / 3, D(ml, "boundUpper"), 1e-12);
        // Every row carries both named definitions whatever the board's own.
        Assert.Equal(D(ml, "value"), D(Row(board, "m1").GetProperty("lenient"), "value"), 1e-12);
        Assert.Equal(2.0 / 8, D(Row(board, "m1").GetProperty("strict"), "value"), 1e-12);
    }

    [Fact]
    public async Task A_new_label_version_changes_the_board_and_an_earlier_version_is_recomputed_from_the_events()
    {
        await fixture.SeedAsync();
        Assert.Equal(2.0 / 6, D(Row(fixture.BeforeVersion2, "m1").GetProperty("multiLabel"), "decidedOnly"), 1e-12);
        var current = await GetAsync("/api/leaderboard?dataset=tiny");
        var ml = Row(current, "m1").GetProperty("multiLabel");
        // Image 0 overturned to wrong, image 5 decided correct: still 2 right of 8, now 7 decided.
        Assert.Equal(2.0 / 8, D(ml, "value"), 1e-12);
        Assert.Equal(2.0 / 7, D(ml, "decidedOnly"), 1e-12);
        Assert.Equal(1, ml.GetProperty("pending").GetInt64());
        Assert.Equal(2, current.GetProperty("labelVersion").GetInt64());
        Assert.Equal(7.0 / 9, D(Row(current, "m2").GetProperty("multiLabel"), "value"), 1e-12);
        var earlier = await GetAsync("/api/leaderboard?dataset=tiny&version=1");
        Assert.Equal(2.0 / 6, D(Row(earlier, "m1").GetProperty("multiLabel"), "decidedOnly"), 1e-12);
        var none = await GetAsync("/api/leaderboard?dataset=tiny&version=0");
        // Before any verdict nothing is problematic and every top-1 is pending: every value is 0, every row provisional.
        Assert.Equal(9, Row(none, "m1").GetProperty("multiLabel").GetProperty("pending").GetInt64());
        Assert.Equal(0.0, D(Row(none, "m2").GetProperty("multiLabel"), "value"), 1e-12);
    }

    [Fact]
    public async Task Subsets_go_by_the_original_class()
    {
        var board = await GetAsync("/api/leaderboard?dataset=tiny&subset=dogs");
        var m1 = Row(board, "m1");
        // Dogs: images 4, 5 and 6; m1 predicted chihuahua for 4 and 5 (correct) and tench for 6 (pending: wrong).
        Assert.Equal(3, m1.GetProperty("predicted").GetInt64());
        Assert.True(m1.GetProperty("complete").GetBoolean());
        Assert.Equal(2.0 / 3, D(m1.GetProperty("top1"), "value"), 1e-12);
        Assert.Equal(2.0 / 3, D(m1.GetProperty("multiLabel"), "value"), 1e-12);
        Assert.Equal(1.0, D(m1.GetProperty("multiLabel"), "decidedOnly"), 1e-12);
        var objects = m1.GetProperty("subsets").EnumerateArray().Single(s => s.GetProperty("subset").GetString() == "objects");
        // The subset's figure is the board's metric (multi-label, strict): m1 has no object image right.
        Assert.Equal(0.0, D(objects, "value"), 1e-12);
        Assert.Equal(0.0, D(objects, "lower"), 1e-12);
        Assert.False(objects.GetProperty("complete").GetBoolean());
        Assert.Equal(new[] { "all", "objects", "organisms", "dogs", "organisms-not-dogs", "no-dogs" },
            board.GetProperty("subsets").EnumerateArray().Select(s => s.GetString()).ToArray());
    }

    [Fact]
    public async Task The_shifted_dataset_gives_the_drop_and_a_fit_across_complete_models()
    {
        var board = await GetAsync("/api/leaderboard?dataset=tiny&metric=top1&fit=linear");
        Assert.Equal("tiny-v2", board.GetProperty("shiftedDataset").GetString());
        // Top-1 without the problematic image 3: m1 4/8 (incomplete) and 2/4 on tiny-v2; m2 9/9 and 3/4; m3 8/9 and 2/4.
        var shift = Row(board, "m1").GetProperty("shift");
        Assert.Equal(0.5, D(shift, "value"), 1e-12);
        Assert.Equal(0.0, D(shift, "drop"), 1e-12);
        var fit = board.GetProperty("fit");
        // Only complete models are fitted: the line through (1, 3/4) and (8/9, 1/2).
        Assert.Equal(2, fit.GetProperty("points").GetInt32());
        Assert.Equal("linear", fit.GetProperty("space").GetString());
        Assert.Equal("model", fit.GetProperty("on").GetString());
        Assert.Equal(2.25, D(fit, "slope"), 1e-12);
        Assert.Equal(-1.5, D(fit, "intercept"), 1e-12);
        Assert.Equal(1.0, D(fit, "r"), 1e-12);
        Assert.Equal(0.0, D(Row(board, "m2").GetProperty("shift"), "effectiveRobustness"), 1e-12);
        Assert.Equal(0.5 - (2.25 * 0.5 - 1.5), D(shift, "effectiveRobustness"), 1e-12);
        Assert.Equal(1, Row(board, "m2").GetProperty("rank").GetInt32());

        // The default space is logit: with two points the line passes through both, so their effective robustness is 0.
        var logit = await GetAsync("/api/leaderboard?dataset=tiny&metric=top1");
        Assert.Equal("logit", logit.GetProperty("fit").GetProperty("space").GetString());
        Assert.Equal(0.0, D(Row(logit, "m3").GetProperty("shift"), "effectiveRobustness"), 1e-9);
        Assert.NotEmpty(logit.GetProperty("fit").GetProperty("band").EnumerateArray());
    }

    [Fact]
    public async Task A_model_majority_ensemble_is_computed_from_the_entries()
    {
        var board = await GetAsync("/api/leaderboard?dataset=tiny");
        var ensemble = Row(board, "model-majority");
        Assert.Equal("ensemble", ensemble.GetProperty("kind").GetString());
        Assert.True(ensemble.GetProperty("computed").GetBoolean());
        // Every graded image (the problematic image 3 is left out).
        Assert.Equal(9, ensemble.GetProperty("predicted").GetInt64());
        Assert.DoesNotContain(board.GetProperty("rows").EnumerateArray(), r => r.GetProperty("slug").GetString() == "human-majority");
    }

    [Fact]
    public async Task The_board_is_served_as_csv_on_request()
    {
        await fixture.SeedAsync();
        using var client = fixture.App.Anonymous();
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await client.GetAsync("/api/leaderboard?dataset=tiny");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.StartsWith("rank,rank_lower,rank_upper,model,display_name,kind,complete,predicted,images,value,top1", lines[0]);
        Assert.Equal(5, lines.Length);
        // m2 is right wherever m3 is and on image 9 too: it ranks first in every bootstrap replicate.
        Assert.StartsWith("1,1,1,m2,m2,model,true,9,9,", lines[1]);
        var same = await client.GetAsync("/api/leaderboard?dataset=tiny&format=csv");
        Assert.Equal(string.Join('\n', lines) + "\n", await same.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_board_is_served_with_the_columns_of_timm_results_files()
    {
        await fixture.SeedAsync();
        using var client = fixture.App.Anonymous();
        var json = await (await client.GetAsync("/api/leaderboard?dataset=tiny")).JsonAsync();
        var text = await client.GetStringAsync("/api/leaderboard?dataset=tiny&format=timm");
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal("model,top1,top1_err,top5,top5_err,param_count,multilabel,multilabel_err", lines[0]);
        Assert.Equal(json.GetProperty("rows").GetArrayLength() + 1, lines.Length);
        foreach (var (row, line) in json.GetProperty("rows").EnumerateArray().Zip(lines.Skip(1)))
        {
            var cells = line.Split(',');
            Assert.Equal(row.GetProperty("slug").GetString(), cells[0]);
            var top1 = 100 * row.GetProperty("top1").GetProperty("value").GetDouble();
            Assert.Equal(top1, double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture), 3);
            Assert.Equal(100 - top1, double.Parse(cells[2], System.Globalization.CultureInfo.InvariantCulture), 3);
        }
    }

    [Fact]
    public async Task Model_results_list_subsets_classes_and_the_images_it_gets_wrong()
    {
        var results = await GetAsync("/api/models/m1/results?dataset=tiny");
        Assert.Equal("m1", results.GetProperty("model").GetProperty("slug").GetString());
        Assert.Equal(6, results.GetProperty("subsets").GetArrayLength());
        Assert.Equal(3, results.GetProperty("classes").GetArrayLength());
        // Strict: wrong 0, 1, 8 and unclear 2, 7.
        Assert.Equal(5, results.GetProperty("wrongCount").GetInt64());
        Assert.Equal(new[] { 0, 1, 2, 7, 8 }.Select(i => fixture.Images[i]),
            results.GetProperty("wrongImages").EnumerateArray().Select(w => w.GetProperty("imageId").GetInt64()));
        var tench = results.GetProperty("classes")[0];
        Assert.Equal(Tench, tench.GetProperty("wnid").GetString());
        Assert.Equal(0.0, D(tench, "strict"), 1e-12);
        Assert.Equal(1.0 / 3, D(tench, "lenient"), 1e-12);
        var chihuahua = results.GetProperty("classes")[1];
        // Images 4 and 5 correct, 6 pending: a pending top-1 counts wrong here too.
        Assert.Equal(2.0 / 3, D(chihuahua, "strict"), 1e-12);
    }

    [Fact]
    public async Task Image_predictions_say_which_entry_counts_as_correct()
    {
        await fixture.SeedAsync();
        var body = await GetAsync($"/api/images/{fixture.Images[2]}/predictions");
        var predictions = body.GetProperty("predictions").EnumerateArray().ToDictionary(p => p.GetProperty("model").GetString()!);
        Assert.Equal("unclear", predictions["m1"].GetProperty("state").GetString());
        Assert.False(predictions["m1"].GetProperty("strict").GetBoolean());
        Assert.True(predictions["m1"].GetProperty("lenient").GetBoolean());
        Assert.True(predictions["m2"].GetProperty("strict").GetBoolean());
        Assert.True(predictions["m2"].GetProperty("top1MatchesOriginal").GetBoolean());
        var pending = await GetAsync($"/api/images/{fixture.Images[6]}/predictions");
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("predictions").EnumerateArray()
            .Single(p => p.GetProperty("model").GetString() == "m1").GetProperty("strict").ValueKind);
    }

    [Fact]
    public async Task Hard_images_are_wrong_for_every_model()
    {
        var body = await GetAsync("/api/analysis/hard-images?dataset=tiny&by=models");
        var hard = body.GetProperty("hard");
        // Image 0 (tench, overturned to wrong) is wrong for both m1 and m2; image 7 is unclear for both (wrong when strict).
        Assert.Equal(2, hard.GetProperty("count").GetInt64());
        Assert.Equal(new[] { fixture.Images[0], fixture.Images[7] }, hard.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("imageId").GetInt64()));
        long InSubset(JsonElement group, string subset) =>
            group.GetProperty("bySubset").EnumerateArray().Single(s => s.GetProperty("subset").GetString() == subset).GetProperty("count").GetInt64();
        Assert.Equal(1, InSubset(hard, "organisms"));
        Assert.Equal(1, InSubset(hard, "objects"));
        var lenient = (await GetAsync("/api/analysis/hard-images?dataset=tiny&by=models&unclear=correct")).GetProperty("hard");
        Assert.Equal(1, lenient.GetProperty("count").GetInt64());
        Assert.Equal(0, body.GetProperty("both").GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("/api/leaderboard?dataset=tiny&metric=f1", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&average=macro", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&alpha=0.9", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&version=99", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&subset=cats", 404)]
    [InlineData("/api/leaderboard?dataset=nope", 404)]
    [InlineData("/api/models/nope/results?dataset=tiny", 404)]
    [InlineData("/api/analysis/hard-images?dataset=tiny&by=robots", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&imageSet=nope", 404)]
    [InlineData("/api/leaderboard?dataset=tiny&fit=cubic", 422)]
    [InlineData("/api/leaderboard?dataset=tiny&fitOn=robots", 422)]
    [InlineData("/api/compare?dataset=tiny&a=m1&b=m1", 422)]
    [InlineData("/api/compare?dataset=tiny&a=m1&b=nope", 404)]
    [InlineData("/api/compare?dataset=tiny&a=m1&b=m2&metric=top5", 422)]
    [InlineData("/api/analysis/paper?dataset=tiny-v2", 422)]
    [InlineData("/api/datasets/nope/statistics", 404)]
    public async Task Bad_parameters_are_problems(string url, int status)
    {
        await fixture.SeedAsync();
        using var client = fixture.App.Anonymous();
        await (await client.GetAsync(url)).ProblemAsync((HttpStatusCode)status);
    }

    [Fact]
    public async Task Reference_labels_need_one_list_per_image_and_an_admin()
    {
        await fixture.SeedAsync();
        using var admin = fixture.App.Admin();
        var shortList = await admin.PutAsync("/api/datasets/tiny/reference-labels", Json("[[0],[1]]"));
        var problem = await shortList.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("2 entries for 10 images", problem.GetProperty("errors")[0].GetProperty("message").GetString());
        var badIndex = await admin.PutAsync("/api/datasets/tiny/reference-labels", Json("[[0],[1],[7],[],[],[],[],[],[],[]]"));
        Assert.Equal(3, (await badIndex.ProblemAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("errors")[0].GetProperty("line").GetInt64());
        using var anonymous = fixture.App.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/api/datasets/tiny/reference-labels", Json("[]"))).StatusCode);
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}
