using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Relabel.Bench;

/// <summary>
/// The portable bundle of a dataset of the 50,000 ILSVRC-2012 validation images with five top-5 models (with scores),
/// ReaL's reference labels and ReaL's 924,810 crowd votes: the export's time and size, and its import into a second,
/// empty server (from the POST to the end of the job), whose leaderboard must equal the source's.
/// </summary>
public sealed class BundleBenchmark : IBenchmark
{
    public string Name => "bundle";

    private const string Dataset = "imagenet-val";

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        var (classes, truth, files) = await context.RegisterIlsvrcValidationAsync(Dataset);
        var index = classes.Select((wnid, i) => (wnid, i)).ToDictionary(c => c.wnid, c => c.i);

        for (var m = 0; m < 5; m++)
        {
            var slug = $"bench-model-{m}";
            (await admin.PostAsJsonAsync("/api/models", new { slug, displayName = $"Bench model {m}", kind = "model" }, ct)).EnsureSuccessStatusCode();
            var random = new Random(m);
            var rows = files.Select((file, i) =>
            {
                var labels = new List<int>(5) { random.NextDouble() < 0.6 + 0.05 * m ? index[truth[i]] : random.Next(1000) };
                while (labels.Count < 5)
                {
                    var next = random.Next(1000);
                    if (!labels.Contains(next)) labels.Add(next);
                }
                var scores = Enumerable.Range(0, 5).Select(j => MathF.Round(0.9f / (j + 1) * (float)random.NextDouble(), 4)).ToArray();
                return new { image = file, labels = labels.Select(l => classes[l]).ToArray(), scores };
            });
            (await admin.PutAsJsonAsync($"/api/models/{slug}/predictions/{Dataset}", new { predictions = rows }, ct)).EnsureSuccessStatusCode();
        }
        var real = await File.ReadAllTextAsync(Path.Combine(BenchContext.SharedData, "real", "real.json"), ct);
        (await admin.PutAsync($"/api/datasets/{Dataset}/reference-labels", new StringContent(real, System.Text.Encoding.UTF8, "application/json"), ct))
            .EnsureSuccessStatusCode();
        var votes = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(BenchContext.SharedData, "real", "rater_votes.csv.gz"), ct));
        votes.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        votes.Headers.ContentEncoding.Add("gzip");
        await RunJobAsync(admin, await admin.PostAsync($"/api/datasets/{Dataset}/import/rater-votes", votes, ct), ct);

        var watch = Stopwatch.StartNew();
        var bundle = await admin.GetByteArrayAsync($"/api/datasets/{Dataset}/export/bundle", ct);
        BenchContext.Report("bundle_export_seconds", watch.Elapsed.TotalSeconds, "F2");
        BenchContext.Report("bundle_mb", bundle.Length / 1e6, "F1");

        await using var target = await context.StartAnotherAsync("bundle-target");
        var content = new ByteArrayContent(bundle);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        watch.Restart();
        var (result, peak) = await target.WatchMemoryAsync(async () =>
            await RunJobAsync(target.Admin, await target.Admin.PostAsync("/api/import/bundle", content, ct), ct));
        BenchContext.Report("bundle_import_seconds", watch.Elapsed.TotalSeconds, "F2");
        BenchContext.Report("bundle_import_peak_rss_mb", peak, "F0");
        Console.WriteLine($"  job: {result}");

        foreach (var query in new[] { "", "&metric=real", "&subset=dogs&average=per-class" })
        {
            async Task<string> Board(HttpClient client)
            {
                var board = JsonNode.Parse(await client.GetStringAsync($"/api/leaderboard?dataset={Dataset}{query}", ct))!.AsObject();
                board.Remove("computeMs");
                return board.ToJsonString();
            }
            if (await Board(admin) != await Board(target.Admin))
                throw new InvalidOperationException($"The imported leaderboard ({query}) differs from the source's.");
        }
        Console.WriteLine("  the imported leaderboards equal the source's");
    }

    private static async Task<JsonElement> RunJobAsync(HttpClient client, HttpResponseMessage accepted, CancellationToken ct)
    {
        accepted.EnsureSuccessStatusCode();
        var location = (await accepted.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("location").GetString()!;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location, ct);
            switch (job.GetProperty("status").GetString())
            {
                case "succeeded": return job.GetProperty("result");
                case "failed": throw new InvalidOperationException("job failed: " + job);
            }
            await Task.Delay(50, ct);
        }
    }
}
