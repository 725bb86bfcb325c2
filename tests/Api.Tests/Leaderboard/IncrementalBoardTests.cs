using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Features.Leaderboard;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// The board a long-running process carries from label version to label version (re-grading only the images a change
/// touched) equals the board a second process computes from scratch, after every step of a random sequence of verdicts,
/// flags, consensus-rule changes and uploads.
/// </summary>
public sealed class IncrementalBoardTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02085782", "n03000134", "n04592741"];
    private const int Images = 60;

    private static async Task<string> RowsAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/leaderboard?dataset=replay&wait=true");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var board = await response.JsonAsync();
        return board.GetProperty("labelVersion").GetInt64() + " " + board.GetProperty("rows").GetRawText() + " " + board.GetProperty("scope").GetRawText();
    }

    [Fact]
    public async Task After_every_step_of_a_random_replay_the_incremental_board_equals_a_full_recompute()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "replay", Classes);
        var random = new Random(19);
        var original = Enumerable.Range(0, Images).Select(_ => (short)random.Next(Classes.Length)).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/replay/images/manifest",
            new StringContent(string.Concat(original.Select((c, i) => $"replay_{i:D3}.jpg,{Classes[c]}\n")), Encoding.UTF8, "text/csv"))).StatusCode);
        var seed = new ScoringSeed(fixture.App.Db);
        var images = await seed.ImageIdsAsync("replay");
        var models = new[] { ("m-a", "model"), ("m-b", "model"), ("m-c", "model"), ("m-d", "model-extra-data"), ("h-a", "human"), ("h-b", "human") };
        var top1 = new Dictionary<string, short[]>();
        async Task UploadAsync(string slug, string kind)
        {
            var rows = new List<(long, short[])>();
            var firsts = new short[Images];
            for (var i = 0; i < Images; i++)
            {
                var labels = Enumerable.Range(0, Classes.Length).OrderBy(_ => random.Next()).Take(5).Select(c => (short)c).ToArray();
                if (random.NextDouble() < 0.5)
                {
                    var at = Array.IndexOf(labels, original[i]);
                    if (at < 0) labels[0] = original[i]; else (labels[0], labels[at]) = (labels[at], labels[0]);
                }
                firsts[i] = labels[0];
                // Humans label a sample only.
                if (kind != "human" || random.NextDouble() < 0.7) rows.Add((images[i], labels));
            }
            top1[slug] = firsts;
            await seed.PredictionsAsync("replay", slug, kind, 5, rows);
        }
        foreach (var (slug, kind) in models) await UploadAsync(slug, kind);

        await using var full = new RelabelApp(fixture.App.Database);
        using var incremental = fixture.App.Anonymous();
        using var fresh = full.Anonymous();
        var service = full.Services.GetRequiredService<LeaderboardService>();
        var kinds = new List<string>();
        for (var step = 0; step < 30; step++)
        {
            var what = random.NextDouble();
            if (what < 0.65)
            {
                kinds.Add("verdicts");
                var verdicts = Enumerable.Range(0, random.Next(1, 5)).Select(_ =>
                {
                    var i = random.Next(Images);
                    var model = models[random.Next(models.Length)].Item1;
                    var cls = random.NextDouble() < 0.8 ? top1[model][i] : original[i];
                    return (images[i], Classes[cls], "replay-r" + random.Next(3), new[] { "correct", "wrong", "unclear" }[random.Next(3)]);
                }).DistinctBy(v => (v.Item1, v.Item2)).ToList();
                var flags = random.NextDouble() < 0.3 ? new[] { (images[random.Next(Images)], random.NextDouble() < 0.7) } : null;
                await seed.VersionAsync("replay", verdicts, flags);
            }
            else if (what < 0.8)
            {
                kinds.Add("rule");
                var rule = random.NextDouble() < 0.5 ? "majority" : "latest";
                Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/datasets/replay/consensus", new { rule })).StatusCode);
            }
            else
            {
                kinds.Add("upload");
                var (slug, kind) = models[random.Next(models.Length)];
                await UploadAsync(slug, kind);
            }
            var carried = await RowsAsync(incremental);
            service.Clear();
            service.Store.ForgetLabels();
            Assert.Equal(await RowsAsync(fresh), carried);
        }
        Assert.Contains("verdicts", kinds);
        Assert.Contains("rule", kinds);
        Assert.Contains("upload", kinds);
    }
}
