using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Infrastructure;
using Relabel.Api.Metrics;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Predictions;

/// <summary>The leaderboard's in-memory predictions are bounded: replaced uploads go, and a budget holds the rest.</summary>
public sealed class PredictionsMemoryTests(ITestOutputHelper output)
{
    private static PredictionsCache Cache(double megabytes) =>
        new(Options.Create(new RelabelOptions { PredictionsMemoryMb = megabytes }));

    /// <summary>Top-5 predictions of 100,000 images: 1,000,000 bytes in memory (two bytes per label).</summary>
    private static RankedPredictions Megabyte() => RankedPredictions.Empty(100_000, 5);

    [Fact]
    public void Past_the_budget_the_least_recently_used_predictions_go()
    {
        var cache = Cache(3.5);
        var view = cache.ForDataset(1);
        for (var upload = 1; upload <= 3; upload++) view.Uploads[upload] = Megabyte();
        Assert.True(view.Uploads.TryGetValue(1, out _));
        view.Uploads[4] = Megabyte();

        // Upload 2 was used least recently (1 was just read): it went, and the budget holds.
        Assert.False(view.Uploads.ContainsKey(2));
        Assert.True(view.Uploads.ContainsKey(1));
        Assert.True(view.Uploads.ContainsKey(3));
        Assert.True(view.Uploads.ContainsKey(4));
        Assert.True(cache.Bytes <= cache.BudgetBytes, $"{cache.Bytes} bytes held, budget {cache.BudgetBytes}");
        Assert.Throws<KeyNotFoundException>(() => view.Uploads[2]);
    }

    [Fact]
    public void A_replaced_upload_goes_with_the_ensembles_computed_from_it_and_a_new_view_replaces_the_old()
    {
        var cache = Cache(100);
        var view = cache.ForDataset(7);
        view.Uploads[10] = Megabyte();
        view.Uploads[11] = Megabyte();
        var computed = 0;
        view.Ensembles.GetOrAdd("model-majority:10,11", _ => { computed++; return Megabyte(); });
        view.Ensembles.GetOrAdd("model-majority:10,11", _ => { computed++; return Megabyte(); });
        view.Ensembles.GetOrAdd("human-majority:11,12", _ => { computed++; return Megabyte(); });
        Assert.Equal(2, computed);
        Assert.Equal(4, cache.Count);

        cache.EvictUpload(10);
        Assert.False(view.Uploads.ContainsKey(10));
        Assert.True(view.Uploads.ContainsKey(11));
        Assert.Equal(2, cache.Count);
        view.Ensembles.GetOrAdd("model-majority:10,11", _ => { computed++; return Megabyte(); });
        Assert.Equal(3, computed);

        // The dataset's images changed: positions are new, everything of the old view goes.
        var other = cache.ForDataset(8);
        other.Uploads[1] = Megabyte();
        cache.ForDataset(7);
        Assert.False(view.Uploads.ContainsKey(11));
        Assert.Equal(1, cache.Count);
        Assert.Equal(1_000_000, cache.Bytes);
    }

    [Fact]
    public async Task The_API_process_stays_flat_over_500_upload_then_read_cycles()
    {
        const int Images = 100_000;
        var database = await TestDatabase.CreateAsync();
        try
        {
            await using var api = await ApiProcess.StartAsync(database);
            using var admin = api.Admin();
            await TestData.CreateDatasetAsync(admin, "churn", PredictionData.Classes);
            var manifest = string.Join("\n", Enumerable.Range(0, Images).Select(i => $"{PredictionData.Image(i)},{i % 5}"));
            Assert.Equal(HttpStatusCode.OK,
                (await admin.PostAsync("/api/datasets/churn/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
            foreach (var model in new[] { "churn-a", "churn-b" }) await PredictionData.CreateModelAsync(admin, model);

            // Every cycle replaces one model's predictions (one image, but held for all 100,000: a megabyte in memory,
            // and another for the ensemble of the two) and reads the board, which loads the new ones.
            double warm = 0;
            for (var cycle = 1; cycle <= 500; cycle++)
            {
                var body = $"image,label1\n{PredictionData.Image(cycle % Images)},{PredictionData.Classes[cycle % 5]}\n";
                var upload = await PredictionData.PutAsync(admin, cycle % 2 == 0 ? "churn-a" : "churn-b", "churn",
                    PredictionData.Body(body, "text/csv"), "?partial=true");
                Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/leaderboard?dataset=churn")).StatusCode);
                if (cycle == 50) warm = api.Memory().RssMb;
            }
            var (rss, peak) = api.Memory();
            output.WriteLine($"RSS after 50 cycles {warm:F0} MB, after 500 {rss:F0} MB, peak {peak:F0} MB");
            // Unbounded, the 450 cycles in between would have kept about 900 MB.
            Assert.True(rss - warm < 150, $"RSS grew from {warm:F0} MB to {rss:F0} MB over 450 upload-then-read cycles.");
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }
}
