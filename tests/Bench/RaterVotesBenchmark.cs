using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Relabel.Bench;

/// <summary>
/// Importing ReaL's 924,810 real crowd votes (rater_votes.csv.gz, sent gzipped) into a dataset of the 50,000
/// ILSVRC-2012 validation images: from the POST to the end of the job that writes them, and Dawid-Skene over them.
/// </summary>
public sealed class RaterVotesBenchmark : IBenchmark
{
    public string Name => "rater-votes";

    private const string Dataset = "real-votes";

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        await context.RegisterIlsvrcValidationAsync(Dataset);

        var votes = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(BenchContext.SharedData, "real", "rater_votes.csv.gz"), ct));
        votes.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        votes.Headers.ContentEncoding.Add("gzip");
        var watch = Stopwatch.StartNew();
        var result = await RunJobAsync(admin, await admin.PostAsync($"/api/datasets/{Dataset}/import/rater-votes", votes, ct), ct);
        BenchContext.Report("rater_votes_import_seconds", watch.Elapsed.TotalSeconds, "F2");
        Console.WriteLine($"  job: {result}");

        watch.Restart();
        result = await RunJobAsync(admin, await admin.PostAsJsonAsync($"/api/datasets/{Dataset}/aggregation", new { threshold = 0.9 }, ct), ct);
        BenchContext.Report("dawid_skene_seconds", watch.Elapsed.TotalSeconds, "F2");
        Console.WriteLine($"  job: {result}");
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
