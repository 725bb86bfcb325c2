using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Interop;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// A dataset pair made entirely through the API, like a lab would: 600 and 300 images of 30 ILSVRC classes (organisms,
/// dogs, objects), three models and two humans (who label only the first images), a multi-label release that reviews the
/// first 400 and 200 images (and so declares the 'annotated' scope), and a 'humans-labeled' image set on both. Every
/// number the API reports is checked against a computation here from the generated data.
/// </summary>
public sealed class EvidenceTests(EvidenceTests.Fixture fixture) : IClassFixture<EvidenceTests.Fixture>
{
    public sealed record Entry(string Slug, string Kind, double Accuracy, double ShiftedAccuracy, bool Human);

    public static readonly Entry[] Entries =
    [
        new("model-a", "model", 0.82, 0.72, false),
        new("model-b", "model", 0.78, 0.66, false),
        new("model-c", "model-extra-data", 0.86, 0.82, false),
        new("person-a", "human", 0.93, 0.92, true),
        new("person-b", "human", 0.90, 0.88, true),
    ];

    /// <summary>One generated dataset: images, what is true of them, what every entry predicts, and what reviewers decided.</summary>
    public sealed class Generated(string slug, int images, int reviewed, int humans, int seed)
    {
        public string Slug { get; } = slug;
        public int Reviewed { get; } = reviewed;
        public int Humans { get; } = humans;
        public string[] Files { get; } = Enumerable.Range(0, images).Select(i => $"{slug}_{i:D4}.jpg").ToArray();
        public int[] Original { get; } = Enumerable.Range(0, images).Select(i => i % Classes.Length).ToArray();
        public List<int>[] Truth { get; } = new List<int>[images];
        public Dictionary<string, Dictionary<int, int>> Predictions { get; } = new();
        public int Seed { get; } = seed;

        public bool Problematic(int i) => i < Reviewed && i % 50 == 7;

        /// <summary>The decided state of the item (image, class): reviewed images have every candidate decided.</summary>
        public string State(int i, int c) =>
            i >= Reviewed ? "pending" : (i * 31 + c) % 23 == 0 ? "unclear" : Truth[i].Contains(c) ? "correct" : "wrong";

        public IEnumerable<int> Scope(string? set) => set switch
        {
            "annotated" => Enumerable.Range(0, Reviewed),
            "humans-labeled" => Enumerable.Range(0, Humans),
            _ => Enumerable.Range(0, Files.Length),
        };
    }

    private static readonly string[] Ilsvrc = TestData.IlsvrcClasses();
    /// <summary>Ten organisms (fish, birds), ten dogs and ten objects of ILSVRC-2012; group = index / 10.</summary>
    public static readonly string[] Classes = [.. Ilsvrc[0..10], .. Ilsvrc[151..161], .. Ilsvrc[400..410]];

    public static int GroupOf(int c) => c / 10;

    public sealed class Fixture : ApiFixture
    {
        public Generated Val { get; } = new("ev", 600, 400, 120, 2020);
        public Generated V2 { get; } = new("ev-v2", 300, 200, 60, 2019);
        private bool _seeded;
        private readonly SemaphoreSlim _lock = new(1, 1);

        public async Task SeedAsync()
        {
            await _lock.WaitAsync();
            try
            {
                if (_seeded) return;
                using var admin = App.Admin();
                await TestData.CreateDatasetAsync(admin, "ev", Classes);
                Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets",
                    new { slug = "ev-v2", name = "ev v2", labelSpaceOf = "ev", shiftOf = "ev" })).StatusCode);
                foreach (var e in Entries)
                    Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/models", new { slug = e.Slug, displayName = e.Slug, kind = e.Kind })).StatusCode);
                foreach (var data in new[] { Val, V2 })
                {
                    Generate(data, shifted: data == V2);
                    var manifest = string.Concat(data.Files.Select((f, i) => $"{f},{Classes[data.Original[i]]}\n"));
                    Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{data.Slug}/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
                    foreach (var (slug, rows) in data.Predictions)
                    {
                        var body = new { predictions = rows.Select(r => new { image = data.Files[r.Key], labels = new[] { Classes[r.Value] } }) };
                        var upload = await admin.PutAsJsonAsync($"/api/models/{slug}/predictions/{data.Slug}?partial=true", body);
                        Assert.True(upload.IsSuccessStatusCode, await upload.Content.ReadAsStringAsync());
                    }
                    var job = await InteropTests.WaitForJobAsync(admin, await admin.PostAsync($"/api/datasets/{data.Slug}/import/multilabel?source=evidence",
                        new StringContent(Release(data), Encoding.UTF8, "application/json")));
                    Assert.Equal(data.Reviewed, job.GetProperty("result").GetProperty("annotated").GetInt32());
                    var set = await admin.PostAsJsonAsync($"/api/datasets/{data.Slug}/image-sets",
                        new { name = "humans-labeled", description = "Images both humans labeled.", files = data.Files.Take(data.Humans).ToArray() });
                    Assert.True(set.StatusCode == HttpStatusCode.Created, await set.Content.ReadAsStringAsync() + string.Join("\n", App.Logs.Lines.Where(l => l.Contains("xception")).TakeLast(3)));
                }
                _seeded = true;
            }
            finally { _lock.Release(); }
        }

        private static void Generate(Generated data, bool shifted)
        {
            var random = new Random(data.Seed);
            for (var i = 0; i < data.Files.Length; i++)
            {
                var o = data.Original[i];
                var group = GroupOf(o);
                // 5 % label errors (the original is wrong, a sibling is right), 20 % a second correct object.
                var truth = new List<int> { random.NextDouble() < 0.05 ? group * 10 + (o % 10 + 1 + random.Next(9)) % 10 : o };
                if (random.NextDouble() < 0.2) { var second = group * 10 + random.Next(10); if (!truth.Contains(second)) truth.Add(second); }
                data.Truth[i] = truth;
            }
            foreach (var e in Entries)
            {
                var accuracy = shifted ? e.ShiftedAccuracy : e.Accuracy;
                var rows = new Dictionary<int, int>();
                for (var i = 0; i < (e.Human ? data.Humans : data.Files.Length); i++)
                    rows[i] = random.NextDouble() < accuracy
                        ? data.Truth[i][random.Next(data.Truth[i].Count)]
                        : Enumerable.Range(0, Classes.Length).Where(c => !data.Truth[i].Contains(c)).ElementAt(random.Next(Classes.Length - data.Truth[i].Count));
                data.Predictions[e.Slug] = rows;
            }
        }

        /// <summary>The ICML 2020 format: every top-1 candidate and the original label of each reviewed image, decided.</summary>
        private static string Release(Generated data)
        {
            var annotations = new Dictionary<string, object>();
            for (var i = 0; i < data.Reviewed; i++)
            {
                var candidates = data.Predictions.Values.Where(p => p.ContainsKey(i)).Select(p => p[i]).Append(data.Original[i]).Distinct().ToList();
                annotations[data.Files[i]] = new
                {
                    correct = candidates.Where(c => data.State(i, c) == "correct").Select(c => Classes[c]).ToArray(),
                    wrong = candidates.Where(c => data.State(i, c) == "wrong").Select(c => Classes[c]).ToArray(),
                    unclear = candidates.Where(c => data.State(i, c) == "unclear").Select(c => Classes[c]).ToArray(),
                };
            }
            var problematic = Enumerable.Range(0, data.Reviewed).Where(data.Problematic)
                .ToDictionary(i => data.Files[i], _ => new { reason = "drawing-or-render" });
            return JsonSerializer.Serialize(new { initial_annots = annotations, problematic_images = problematic, imagenet_m = Array.Empty<string>() });
        }
    }

    /// <summary>What an entry scores on a scope: graded images, predicted, right (multi-label), pending, top-1 right.</summary>
    private sealed record Expected(int Images, int Predicted, int Right, int Pending, int Top1)
    {
        public double Value => (double)Right / Predicted;
        public bool Complete => Predicted == Images;
    }

    private static Expected Expect(Generated data, string slug, string? scope, Func<int, bool>? subset = null)
    {
        var graded = data.Scope(scope).Where(i => !data.Problematic(i) && (subset?.Invoke(data.Original[i]) ?? true)).ToList();
        var predicted = graded.Where(i => data.Predictions[slug].ContainsKey(i)).ToList();
        return new Expected(graded.Count, predicted.Count,
            predicted.Count(i => data.State(i, data.Predictions[slug][i]) == "correct"),
            predicted.Count(i => data.State(i, data.Predictions[slug][i]) == "pending"),
            predicted.Count(i => data.Predictions[slug][i] == data.Original[i]));
    }

    private async Task<JsonElement> GetAsync(string url)
    {
        await fixture.SeedAsync();
        using var client = fixture.App.Anonymous();
        var response = await client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {await response.Content.ReadAsStringAsync()}");
        return await response.JsonAsync();
    }

    private static JsonElement Row(JsonElement board, string slug) =>
        board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == slug);

    [Fact]
    public async Task The_default_scope_is_the_annotated_set_and_every_entry_is_graded_on_the_same_images_of_both_datasets()
    {
        var board = await GetAsync("/api/leaderboard?dataset=ev&wait=true");
        var scope = board.GetProperty("scope");
        Assert.Equal("annotated", board.GetProperty("imageSet").GetString());
        Assert.True(scope.GetProperty("default").GetBoolean());
        Assert.Equal(400, scope.GetProperty("images").GetInt64());
        Assert.Equal(392, scope.GetProperty("graded").GetInt64());
        Assert.Equal(8, scope.GetProperty("problematic").GetInt64());
        Assert.Equal(200, scope.GetProperty("shiftedImages").GetInt64());
        foreach (var e in Entries)
        {
            var row = Row(board, e.Slug);
            var expected = Expect(fixture.Val, e.Slug, "annotated");
            Assert.Equal(expected.Complete, row.GetProperty("complete").GetBoolean());
            Assert.Equal(expected.Images, row.GetProperty("images").GetInt64());
            Assert.Equal(expected.Predicted, row.GetProperty("predicted").GetInt64());
            Assert.Equal(expected.Right, row.GetProperty("multiLabel").GetProperty("correct").GetInt64());
            Assert.Equal(expected.Value, row.GetProperty("value").GetDouble(), 1e-12);
            // Top-1 on the same images (problematic ones left out).
            Assert.Equal((double)expected.Top1 / expected.Predicted, row.GetProperty("top1").GetProperty("value").GetDouble(), 1e-12);
            var shifted = Expect(fixture.V2, e.Slug, "annotated");
            Assert.Equal(shifted.Value, row.GetProperty("shift").GetProperty("value").GetDouble(), 1e-12);
            Assert.Equal(shifted.Complete, row.GetProperty("shift").GetProperty("complete").GetBoolean());
            // The humans labeled only the first images: graded on those, not ranked.
            Assert.Equal(e.Human, row.GetProperty("rank").ValueKind == JsonValueKind.Null);
        }

        // Ranks follow the headline among complete entries; every rank lies in its 95 % bootstrap interval.
        Assert.Equal("ready", board.GetProperty("statistics").GetProperty("status").GetString());
        var ranked = board.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("rank").ValueKind == JsonValueKind.Number)
            .OrderBy(r => r.GetProperty("rank").GetInt32()).ToList();
        Assert.Equal(ranked.Select(r => r.GetProperty("value").GetDouble()).OrderDescending(), ranked.Select(r => r.GetProperty("value").GetDouble()));
        foreach (var r in ranked)
        {
            var interval = r.GetProperty("rankInterval");
            Assert.InRange(r.GetProperty("rank").GetInt32(), interval.GetProperty("lower").GetInt32(), interval.GetProperty("upper").GetInt32());
        }
        Assert.Equal(JsonValueKind.Null, ranked[^1].GetProperty("versusNext").ValueKind);
        Assert.All(ranked.SkipLast(1), r => Assert.Equal("mcnemar", r.GetProperty("versusNext").GetProperty("method").GetString()));
        // Strict/lenient × micro/per-class and top-1 (no ReaL labels here).
        Assert.Equal(5, board.GetProperty("sensitivity").GetProperty("rankings").GetArrayLength());
    }

    [Fact]
    public async Task The_humans_image_set_grades_humans_and_models_on_the_same_images_of_both_datasets()
    {
        var board = await GetAsync("/api/leaderboard?dataset=ev&imageSet=humans-labeled");
        Assert.False(board.GetProperty("scope").GetProperty("default").GetBoolean());
        Assert.Equal(60, board.GetProperty("scope").GetProperty("shiftedImages").GetInt64());
        foreach (var e in Entries)
        {
            var row = Row(board, e.Slug);
            Assert.True(row.GetProperty("complete").GetBoolean(), e.Slug);
            Assert.Equal(JsonValueKind.Number, row.GetProperty("rank").ValueKind);
            Assert.Equal(Expect(fixture.Val, e.Slug, "humans-labeled").Value, row.GetProperty("value").GetDouble(), 1e-12);
            // The shifted dataset is graded on its own 'humans-labeled' images, not on all 300.
            var shifted = Expect(fixture.V2, e.Slug, "humans-labeled");
            Assert.Equal(shifted.Value, row.GetProperty("shift").GetProperty("value").GetDouble(), 1e-12);
            Assert.True(row.GetProperty("shift").GetProperty("complete").GetBoolean());
        }
        // The human majority vote is complete here and ranked like everyone.
        Assert.Equal(JsonValueKind.Number, Row(board, "human-majority").GetProperty("rank").ValueKind);
    }

    [Fact]
    public async Task On_every_image_unreviewed_top1_predictions_count_wrong_and_the_board_is_provisional()
    {
        var board = await GetAsync("/api/leaderboard?dataset=ev&imageSet=all");
        Assert.Null(board.GetProperty("imageSet").GetString());
        var row = Row(board, "model-a");
        var expected = Expect(fixture.Val, "model-a", null);
        var ml = row.GetProperty("multiLabel");
        Assert.Equal(expected.Pending, ml.GetProperty("pending").GetInt64());
        Assert.True(expected.Pending > 150);
        Assert.Equal(expected.Value, ml.GetProperty("value").GetDouble(), 1e-12);
        Assert.Equal((double)expected.Right / (expected.Predicted - expected.Pending), ml.GetProperty("decidedOnly").GetDouble(), 1e-12);
        Assert.Equal((double)(expected.Right + expected.Pending) / expected.Predicted, ml.GetProperty("boundUpper").GetDouble(), 1e-12);
        Assert.True(row.GetProperty("provisional").GetBoolean());
    }

    [Fact]
    public async Task Compare_gives_the_paired_table_McNemars_exact_p_and_the_difference_on_the_same_images()
    {
        var body = await GetAsync("/api/compare?dataset=ev&a=model-c&b=model-b&imageSet=annotated");
        var data = fixture.Val;
        var graded = data.Scope("annotated").Where(i => !data.Problematic(i)).ToList();
        bool Right(string slug, int i) => data.State(i, data.Predictions[slug][i]) == "correct";
        var both = graded.Count(i => Right("model-c", i) && Right("model-b", i));
        var onlyA = graded.Count(i => Right("model-c", i) && !Right("model-b", i));
        var onlyB = graded.Count(i => !Right("model-c", i) && Right("model-b", i));
        var ml = body.GetProperty("comparisons").EnumerateArray().Single(c => c.GetProperty("metric").GetString() == "multilabel");
        Assert.Equal(graded.Count, ml.GetProperty("images").GetInt64());
        Assert.Equal((long)both, ml.GetProperty("bothRight").GetInt64());
        Assert.Equal((long)onlyA, ml.GetProperty("onlyA").GetInt64());
        Assert.Equal((long)onlyB, ml.GetProperty("onlyB").GetInt64());
        Assert.Equal((double)(onlyA - onlyB) / graded.Count, ml.GetProperty("difference").GetDouble(), 1e-12);
        // McNemar's exact test by a direct sum of binomial probabilities.
        var n = onlyA + onlyB;
        var tail = Enumerable.Range(0, Math.Min(onlyA, onlyB) + 1).Sum(k => Math.Exp(LogChoose(n, k) - n * Math.Log(2)));
        Assert.Equal(Math.Min(1, 2 * tail), ml.GetProperty("pValue").GetDouble(), 1e-9);
        Assert.InRange(ml.GetProperty("difference").GetDouble(), ml.GetProperty("lower").GetDouble(), ml.GetProperty("upper").GetDouble());
        Assert.Equal(["multilabel", "top1"], body.GetProperty("comparisons").EnumerateArray().Select(c => c.GetProperty("metric").GetString()));
    }

    private static double LogChoose(int n, int k)
    {
        double sum = 0;
        for (var j = 1; j <= k; j++) sum += Math.Log(n - k + j) - Math.Log(j);
        return sum;
    }

    [Fact]
    public async Task The_paper_view_shows_each_human_and_the_best_model_per_subset_on_both_datasets_and_the_shared_mistakes()
    {
        var paper = await GetAsync("/api/analysis/paper?dataset=ev&imageSet=humans-labeled");
        Assert.Equal("ev-v2", paper.GetProperty("shifted").GetString());
        Assert.Equal("humans-labeled", paper.GetProperty("imageSet").GetString());
        var table = paper.GetProperty("table").EnumerateArray().ToList();
        foreach (var (subset, inSubset) in new (string, Func<int, bool>)[] { ("all", _ => true), ("dogs", c => GroupOf(c) == 1), ("objects", c => GroupOf(c) == 2) })
        {
            var rows = table.Where(r => r.GetProperty("subset").GetString() == subset).ToList();
            Assert.Equal(["person-a", "person-b"], rows.Where(r => r.GetProperty("role").GetString() == "human").Select(r => r.GetProperty("slug").GetString()).Order());
            var best = Entries.Where(e => !e.Human).MaxBy(e => Expect(fixture.Val, e.Slug, "humans-labeled", inSubset).Value)!;
            var model = rows.Single(r => r.GetProperty("role").GetString() == "best-model");
            Assert.Equal(best.Slug, model.GetProperty("slug").GetString());
            var original = Expect(fixture.Val, best.Slug, "humans-labeled", inSubset).Value;
            var shifted = Expect(fixture.V2, best.Slug, "humans-labeled", inSubset).Value;
            Assert.Equal(original, model.GetProperty("original").GetProperty("value").GetDouble(), 1e-12);
            Assert.Equal(original - shifted, model.GetProperty("drop").GetDouble(), 1e-12);
        }
        Assert.Equal(Entries.Length + 2, paper.GetProperty("figure").GetProperty("points").GetArrayLength());

        // Mistakes: images every human (and every model) that predicted them got wrong (decided, not correct), on the scope.
        var data = fixture.Val;
        bool AllWrong(IEnumerable<Entry> group, int i) =>
            group.Where(e => data.Predictions[e.Slug].ContainsKey(i)).ToList() is { Count: > 0 } members
            && members.All(e => data.State(i, data.Predictions[e.Slug][i]) is "wrong" or "unclear");
        var scope = data.Scope("humans-labeled").Where(i => !data.Problematic(i)).ToList();
        var mistakes = paper.GetProperty("mistakes")[0];
        Assert.Equal(scope.Count(i => AllWrong(Entries.Where(e => e.Human), i)), mistakes.GetProperty("humansAllWrong").GetInt64());
        Assert.Equal(scope.Count(i => AllWrong(Entries.Where(e => !e.Human), i)), mistakes.GetProperty("modelsAllWrong").GetInt64());
        Assert.Equal(scope.Count(i => AllWrong(Entries.Where(e => e.Human), i) && AllWrong(Entries.Where(e => !e.Human), i)), mistakes.GetProperty("both").GetInt64());
    }

    [Fact]
    public async Task Dataset_statistics_count_what_the_review_found()
    {
        var body = await GetAsync("/api/datasets/ev/statistics");
        Assert.Equal("annotated", body.GetProperty("imageSet").GetString());
        var all = body.GetProperty("subsets").EnumerateArray().Single(s => s.GetProperty("subset").GetString() == "all");
        var data = fixture.Val;
        var images = Enumerable.Range(0, data.Reviewed).ToList();
        int Correct(int i) => data.Predictions.Values.Where(p => p.ContainsKey(i)).Select(p => p[i]).Append(data.Original[i]).Distinct()
            .Count(c => data.State(i, c) == "correct");
        Assert.Equal(400, all.GetProperty("images").GetInt64());
        Assert.Equal(images.Count(i => Correct(i) >= 2), all.GetProperty("multipleCorrect").GetInt64());
        Assert.Equal(images.Count(i => data.State(i, data.Original[i]) == "wrong"), all.GetProperty("originalWrong").GetInt64());
        Assert.Equal(8, all.GetProperty("problematic").GetInt64());
        Assert.Equal(8, all.GetProperty("problematicByReason").GetProperty("drawing-or-render").GetInt64());
        // One imported source decided every item: nobody to agree with.
        Assert.Equal(0, body.GetProperty("agreement").GetProperty("items").GetInt64());
    }

    [Fact]
    public async Task The_paper_view_counts_the_entries_with_synthetic_predictions_so_the_page_can_say_so()
    {
        await fixture.SeedAsync();
        using var admin = fixture.App.Admin();
        async Task<int> SyntheticAsync() => (await GetAsync("/api/analysis/paper?dataset=ev&imageSet=humans-labeled")).GetProperty("syntheticEntries").GetInt32();
        Assert.Equal(0, await SyntheticAsync());
        var model = Entries.First(e => !e.Human).Slug;
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/models/{model}", new { tags = new[] { "synthetic" } })).StatusCode);
        try
        {
            Assert.Equal(1, await SyntheticAsync());
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/models/{model}", new { tags = Array.Empty<string>() })).StatusCode);
        }
    }

    [Fact]
    public async Task Image_sets_are_declared_through_the_api_and_bad_ones_write_nothing()
    {
        await fixture.SeedAsync();
        using var admin = fixture.App.Admin();
        async Task<string[]> NamesAsync() =>
            (await (await admin.GetAsync("/api/datasets/ev-v2/image-sets")).JsonAsync()).EnumerateArray().Select(s => s.GetProperty("name").GetString()!).Order().ToArray();
        var before = await NamesAsync();
        Assert.Equal(["annotated", "humans-labeled"], before);

        var unknown = await admin.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "some", files = new[] { "ev-v2_0001.jpg", "nope.jpg" } });
        var error = (await unknown.ProblemAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("errors")[0];
        Assert.Equal(2, error.GetProperty("line").GetInt64());
        Assert.Equal("files[1]", error.GetProperty("field").GetString());
        await (await admin.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "all", from = "reviewed" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "x", files = new[] { "ev-v2_0001.jpg" }, from = "reviewed" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "annotated", from = "reviewed" })).ProblemAsync(HttpStatusCode.Conflict);
        using var anonymous = fixture.App.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "y", from = "reviewed" })).StatusCode);
        Assert.Equal(before, await NamesAsync());

        // From the reviewed images: the 200 the release covers; a board on it equals the board on 'annotated'.
        var created = await admin.PostAsJsonAsync("/api/datasets/ev-v2/image-sets", new { name = "reviewed-now", from = "reviewed" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var set = await created.JsonAsync();
        Assert.Equal(200, set.GetProperty("images").GetInt64());
        Assert.Equal("reviewed", set.GetProperty("source").GetString());
        var onSet = await GetAsync("/api/leaderboard?dataset=ev-v2&imageSet=reviewed-now");
        var onAnnotated = await GetAsync("/api/leaderboard?dataset=ev-v2&imageSet=annotated");
        Assert.Equal(Row(onAnnotated, "model-a").GetProperty("value").GetDouble(), Row(onSet, "model-a").GetProperty("value").GetDouble());
    }
}

/// <summary>The ranking cannot be gamed, and the paper's wrong-original rule, each on a dataset of its own.</summary>
public sealed class RankingIntegrityTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = TestData.IlsvrcClasses()[..20];

    private async Task<(string[] Files, int[] Original)> DatasetAsync(HttpClient admin, string slug, int images)
    {
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        var files = Enumerable.Range(0, images).Select(i => $"{slug}_{i:D4}.jpg").ToArray();
        var original = Enumerable.Range(0, images).Select(i => i % Classes.Length).ToArray();
        var manifest = string.Concat(files.Select((f, i) => $"{f},{Classes[original[i]]}\n"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
        return (files, original);
    }

    private static async Task UploadAsync(HttpClient admin, string dataset, string model, string[] files, int[] top1)
    {
        var response = await admin.PutAsJsonAsync($"/api/models/{model}/predictions/{dataset}",
            new { predictions = files.Select((f, i) => new { image = f, labels = new[] { Classes[top1[i]] } }) });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonElement> BoardAsync(string dataset)
    {
        using var client = fixture.App.Anonymous();
        return await (await client.GetAsync($"/api/leaderboard?dataset={dataset}")).JsonAsync();
    }

    private static JsonElement Row(JsonElement board, string slug) =>
        board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == slug);

    [Fact]
    public async Task A_model_that_moves_its_uncertain_predictions_to_labels_nobody_reviewed_loses_rank_instead_of_gaining()
    {
        using var admin = fixture.App.Admin();
        var (files, original) = await DatasetAsync(admin, "game", 400);
        foreach (var slug in new[] { "leader", "rival" })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/models", new { slug, displayName = slug, kind = "model" })).StatusCode);
        // The leader is right on 80 % of the images, the rival on 78 %; the other top-1s are wrong, all reviewed.
        var leader = original.Select((o, i) => i % 10 < 8 ? o : (o + 1) % 20).ToArray();
        var rival = original.Select((o, i) => i % 50 < 39 ? o : (o + 2) % 20).ToArray();
        await UploadAsync(admin, "game", "leader", files, leader);
        await UploadAsync(admin, "game", "rival", files, rival);
        var annotations = files.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => new
        {
            correct = new[] { Classes[original[x.i]] },
            wrong = new[] { leader[x.i], rival[x.i] }.Where(c => c != original[x.i]).Distinct().Select(c => Classes[c]).ToArray(),
        });
        await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/game/import/multilabel?source=game",
            new StringContent(JsonSerializer.Serialize(new { initial_annots = annotations }), Encoding.UTF8, "application/json")));
        var before = await BoardAsync("game");
        var honest = Row(before, "rival");
        Assert.True(honest.GetProperty("rank").GetInt32() > Row(before, "leader").GetProperty("rank").GetInt32());
        Assert.Equal(0.78, honest.GetProperty("value").GetDouble(), 1e-12);

        // Where it is unsure (its wrong answers and a few right ones), the rival now predicts a label no one predicted:
        // those stay pending. Counted over decided images only it would now be near 100 %.
        var unsure = Enumerable.Range(0, files.Length).Where(i => rival[i] != original[i] || i % 50 == 0).ToHashSet();
        var gamed = rival.Select((c, i) => unsure.Contains(i) ? (original[i] + 7) % 20 : c).ToArray();
        await UploadAsync(admin, "game", "rival", files, gamed);
        var board = await BoardAsync("game");
        var row = Row(board, "rival");
        Assert.Equal(unsure.Count, row.GetProperty("multiLabel").GetProperty("pending").GetInt64());
        Assert.Equal(1.0, row.GetProperty("multiLabel").GetProperty("decidedOnly").GetDouble(), 1e-12);
        Assert.True(row.GetProperty("value").GetDouble() < honest.GetProperty("value").GetDouble());
        Assert.True(row.GetProperty("rank").GetInt32() >= honest.GetProperty("rank").GetInt32());
        Assert.True(row.GetProperty("rank").GetInt32() > Row(board, "leader").GetProperty("rank").GetInt32());
        Assert.True(row.GetProperty("provisional").GetBoolean());
    }

    [Fact]
    public async Task The_wrong_original_rule_leaves_out_images_whose_original_label_was_decided_wrong_and_says_how_many()
    {
        using var admin = fixture.App.Admin();
        var (files, original) = await DatasetAsync(admin, "rule", 100);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/models", new { slug = "rule-model", displayName = "m", kind = "model" })).StatusCode);
        await UploadAsync(admin, "rule", "rule-model", files, original);
        // The original label of every tenth image is wrong.
        var annotations = files.Select((f, i) => (f, i)).ToDictionary(x => x.f, x => x.i % 10 == 0
            ? new { correct = Array.Empty<string>(), wrong = new[] { Classes[original[x.i]] } }
            : new { correct = new[] { Classes[original[x.i]] }, wrong = Array.Empty<string>() });
        await InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/rule/import/multilabel",
            new StringContent(JsonSerializer.Serialize(new { initial_annots = annotations }), Encoding.UTF8, "application/json")));
        var off = await BoardAsync("rule");
        Assert.False(off.GetProperty("scope").GetProperty("wrongOriginalIsProblematic").GetBoolean());
        Assert.Equal(0.9, Row(off, "rule-model").GetProperty("value").GetDouble(), 1e-12);

        var patched = await admin.PatchAsJsonAsync("/api/datasets/rule", new { originalWrongIsProblematic = true });
        Assert.True((await patched.JsonAsync()).GetProperty("originalWrongIsProblematic").GetBoolean());
        var on = await BoardAsync("rule");
        Assert.True(on.GetProperty("scope").GetProperty("wrongOriginalIsProblematic").GetBoolean());
        Assert.Equal(10, on.GetProperty("scope").GetProperty("wrongOriginalImages").GetInt64());
        Assert.Equal(90, on.GetProperty("scope").GetProperty("graded").GetInt64());
        Assert.Equal(1.0, Row(on, "rule-model").GetProperty("value").GetDouble(), 1e-12);
        using var anonymous = fixture.App.Anonymous();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PatchAsJsonAsync("/api/datasets/rule", new { originalWrongIsProblematic = false })).StatusCode);
    }
}
