using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// The 50,000 ILSVRC-2012 validation images with their real labels and the ReaL reference multi-labels; synthetic
/// models scored by Relabel and by an independent computation here.
/// </summary>
public sealed class ExactnessTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Dataset = "ilsvrc2012-val";

    private sealed record Model(string Slug, int K, Dictionary<int, short[]> Rows);

    [Fact]
    public async Task Top1_top5_and_ReaL_accuracy_equal_an_independent_computation_on_the_real_validation_labels()
    {
        var classes = TestData.IlsvrcClasses();
        var classIndex = classes.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => (short)p.i);
        var labels = File.ReadAllLines(Path.Combine(TestData.SharedData, "ilsvrc2012", "val_labels.txt")).Select(w => classIndex[w.Trim()]).ToArray();
        var realJson = await File.ReadAllBytesAsync(Path.Combine(TestData.SharedData, "real", "real.json"));
        var real = JsonSerializer.Deserialize<short[][]>(realJson)!;
        Assert.Equal(50_000, labels.Length);

        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, Dataset, classes);
        var manifest = new StringBuilder("file_name,label\n");
        for (var i = 0; i < labels.Length; i++) manifest.Append($"ILSVRC2012_val_{i + 1:D8}.JPEG,{classes[labels[i]]}\n");
        var registered = await admin.PostAsync($"/api/datasets/{Dataset}/images/manifest", new StringContent(manifest.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var imported = await admin.PutAsync($"/api/datasets/{Dataset}/reference-labels",
            new ByteArrayContent(realJson) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        var importBody = await imported.JsonAsync();
        Assert.Equal(50_000, importBody.GetProperty("images").GetInt64());
        Assert.Equal(50_000 - 46_837, importBody.GetProperty("excluded").GetInt64());

        var seed = new ScoringSeed(fixture.App.Db);
        var imageIds = await seed.ImageIdsAsync(Dataset);
        var models = new List<Model> { new("original-labels", 1, Enumerable.Range(0, labels.Length).ToDictionary(i => i, i => new[] { labels[i] })) };
        var random = new Random(20_200_707);
        foreach (var (slug, accuracy, coverage) in new[] { ("synthetic-a", 0.76, 1.0), ("synthetic-b", 0.83, 1.0), ("synthetic-partial", 0.6, 0.3) })
        {
            var rows = new Dictionary<int, short[]>();
            for (var i = 0; i < labels.Length; i++)
            {
                if (random.NextDouble() >= coverage) continue;
                var ranked = new List<short>();
                // Wrong top-1s are often another correct ReaL label, as with real models.
                var top1 = random.NextDouble() < accuracy ? labels[i]
                    : real[i].Length > 0 && random.Next(2) == 0 ? real[i][random.Next(real[i].Length)]
                    : (short)random.Next(1000);
                ranked.Add(top1);
                if (random.Next(3) > 0 && !ranked.Contains(labels[i])) ranked.Add(labels[i]);
                while (ranked.Count < 5) { var c = (short)random.Next(1000); if (!ranked.Contains(c)) ranked.Add(c); }
                rows[i] = [ranked[0], .. ranked.Skip(1).OrderBy(_ => random.Next())];
            }
            models.Add(new Model(slug, 5, rows));
        }
        foreach (var model in models)
            await seed.PredictionsAsync(Dataset, model.Slug, "model", model.K, model.Rows.Select(r => (imageIds[r.Key], r.Value)));

        using var anonymous = fixture.App.Anonymous();
        var board = await (await anonymous.GetAsync($"/api/leaderboard?dataset={Dataset}")).JsonAsync();
        var dogs = await (await anonymous.GetAsync($"/api/leaderboard?dataset={Dataset}&subset=dogs&metric=real")).JsonAsync();
        Assert.True(board.GetProperty("hasReferenceLabels").GetBoolean());
        foreach (var model in models)
        {
            var row = board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == model.Slug);
            var rows = model.Rows;
            Expect(row.GetProperty("top1"), rows.Count(r => r.Value[0] == labels[r.Key]), rows.Count);
            if (model.K == 5) Expect(row.GetProperty("top5"), rows.Count(r => r.Value.Contains(labels[r.Key])), rows.Count);
            else Assert.Equal(JsonValueKind.Null, row.GetProperty("top5").ValueKind);
            var withReference = rows.Where(r => real[r.Key].Length > 0).ToList();
            Expect(row.GetProperty("real"), withReference.Count(r => real[r.Key].Contains(r.Value[0])), withReference.Count);
            if (model.K == 5) Expect(row.GetProperty("realTop5"), withReference.Count(r => r.Value.Any(real[r.Key].Contains)), withReference.Count);

            // Dogs are classes 151-268; subsets go by the original label.
            var dogRows = withReference.Where(r => labels[r.Key] is >= 151 and <= 268).ToList();
            var dogRow = dogs.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == model.Slug);
            Expect(dogRow.GetProperty("real"), dogRows.Count(r => real[r.Key].Contains(r.Value[0])), dogRows.Count);
            Assert.Equal((double)dogRows.Count(r => real[r.Key].Contains(r.Value[0])) / dogRows.Count, dogRow.GetProperty("value").GetDouble(), 1e-9);
        }

        var original = board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == "original-labels");
        Assert.Equal(42_164, original.GetProperty("real").GetProperty("correct").GetInt64());
        Assert.Equal(46_837, original.GetProperty("real").GetProperty("total").GetInt64());
        Assert.Equal(0.9002, original.GetProperty("real").GetProperty("value").GetDouble(), 4);
        Assert.Equal(1.0, original.GetProperty("top1").GetProperty("value").GetDouble());
        // Nothing is reviewed: every multi-label row is provisional with every top-1 pending.
        Assert.True(original.GetProperty("provisional").GetBoolean());
        Assert.Equal(50_000, original.GetProperty("multiLabel").GetProperty("pending").GetInt64());
    }

    private static void Expect(JsonElement score, int correct, int total)
    {
        Assert.Equal(correct, score.GetProperty("correct").GetInt64());
        Assert.Equal(total, score.GetProperty("total").GetInt64());
        Assert.Equal((double)correct / total, score.GetProperty("value").GetDouble(), 1e-9);
        var interval = Relabel.Api.Metrics.ClopperPearson.Of(correct, total)!;
        Assert.Equal(MathNet.Numerics.Distributions.Beta.InvCDF(correct, total - correct + 1, 0.025), score.GetProperty("lower").GetDouble(), 1e-9);
        Assert.Equal(interval.Upper, score.GetProperty("upper").GetDouble(), 1e-12);
    }
}
