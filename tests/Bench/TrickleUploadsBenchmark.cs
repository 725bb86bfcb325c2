using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Relabel.Bench;

/// <summary>
/// 100 prediction uploads trickling in at 1 KB/s each (slow clients, or an attacker), while GET /api/health and a cached
/// leaderboard are asked ten times a second: their latencies, beside the same requests before the trickle started
/// (the reference, in the same run). An upload holds no database connection while it waits for its body.
/// </summary>
public sealed class TrickleUploadsBenchmark : IBenchmark
{
    public string Name => "trickle";

    private const string Dataset = "trickle";
    private const int Uploads = 100;
    private const int BytesPerSecond = 1024;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        string[] classes = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475"];
        await Ensure(admin.PostAsJsonAsync("/api/datasets", new { slug = Dataset, name = "Trickle", classes }, ct));
        await Ensure(admin.PostAsync($"/api/datasets/{Dataset}/images/manifest",
            new StringContent(string.Join("\n", Enumerable.Range(0, 2_000).Select(i => $"img_{i:D5}.JPEG,{i % 5}")), Encoding.UTF8, "text/csv"), ct));
        for (var m = 0; m < Uploads; m++)
            await Ensure(admin.PostAsJsonAsync("/api/models", new { slug = $"slow-{m}", displayName = $"Slow {m}", kind = "model" }, ct));
        // A body that takes about 25 s at 1 KB/s: valid JSON rows from the first bytes (the parser takes each row as it
        // arrives, so an upload that wrote while reading would hold a connection for nearly all that time).
        var body = Encoding.UTF8.GetBytes("{\"predictions\":[" +
            string.Join(",", Enumerable.Range(0, 600).Select(i => $"{{\"image\":\"img_{i:D5}.JPEG\",\"labels\":[{i % 5}]}}")) + "]}");
        BenchContext.Report("trickle_upload_kb", body.Length / 1024.0, "F1");
        await Ensure(admin.PutAsync($"/api/models/slow-0/predictions/{Dataset}?partial=true&labels=index", Json(body, throttle: false), ct));
        await Ensure(admin.GetAsync($"/api/leaderboard?dataset={Dataset}", ct));

        using var probe = new HttpClient { BaseAddress = context.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var (health0, board0) = await ProbeAsync(probe, TimeSpan.FromSeconds(5), ct);
        BenchContext.Report("health_p99_without_trickle_ms", Percentile(health0, 0.99), "F2");

        var uploaders = new List<HttpClient>();
        var trickles = new List<Task<HttpStatusCode>>();
        for (var m = 0; m < Uploads; m++)
        {
            var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
                { BaseAddress = context.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
            client.DefaultRequestHeaders.Authorization = admin.DefaultRequestHeaders.Authorization;
            uploaders.Add(client);
            var model = $"slow-{m}";
            trickles.Add(Task.Run(async () =>
                (await client.PutAsync($"/api/models/{model}/predictions/{Dataset}?partial=true&labels=index", Json(body, throttle: true), ct)).StatusCode, ct));
        }
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var (health, board) = await ProbeAsync(probe, Duration, ct);
        BenchContext.Report("trickle_uploads_health_p50_ms", Percentile(health, 0.50), "F2");
        BenchContext.Report("trickle_uploads_health_p99_ms", Percentile(health, 0.99), "F2");
        BenchContext.Report("trickle_uploads_leaderboard_p99_ms", Percentile(board, 0.99), "F2");
        BenchContext.Report("leaderboard_p99_without_trickle_ms", Percentile(board0, 0.99), "F2");
        var statuses = await Task.WhenAll(trickles);
        BenchContext.Report("trickle_uploads_succeeded", statuses.Count(s => s == HttpStatusCode.OK), "F0");
        foreach (var client in uploaders) client.Dispose();
    }

    /// <summary>Health and the board, one after the other, ten times a second; a failed answer counts, with its latency.</summary>
    private static async Task<(List<double> Health, List<double> Board)> ProbeAsync(HttpClient client, TimeSpan duration, CancellationToken ct)
    {
        var health = new List<double>();
        var board = new List<double>();
        var failures = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            foreach (var (path, latencies) in new[] { ("/api/health", health), ($"/api/leaderboard?dataset={Dataset}", board) })
            {
                var started = Stopwatch.GetTimestamp();
                if (!(await client.GetAsync(path, ct)).IsSuccessStatusCode) failures++;
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            await Task.Delay(100, ct);
        }
        if (failures > 0) Console.WriteLine($"  {failures} health or board requests failed");
        health.Sort();
        board.Sort();
        return (health, board);
    }

    /// <summary>A JSON body, sent at 1 KB/s when throttled.</summary>
    private static HttpContent Json(byte[] body, bool throttle)
    {
        HttpContent content = throttle ? new TrickleContent(body) : new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private sealed class TrickleContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += BytesPerSecond)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(BytesPerSecond, body.Length - offset)));
                await stream.FlushAsync();
                await Task.Delay(1000);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<HttpResponseMessage> Ensure(Task<HttpResponseMessage> call)
    {
        var response = await call;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: " +
                $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }
}
