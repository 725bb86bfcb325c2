using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Relabel.Bench;

/// <summary>
/// "make bench-load": mixed traffic from an open-loop generator on loopback. 70 % leaderboard and browse reads,
/// 20 % review next + submit, 10 % uploads of 1,000-image prediction sets. Short probes find the highest rate
/// (of a fixed ladder) whose p99 stays under 100 ms; that rate is then held for 60 s. Bounded: at most 64 requests
/// in flight, every phase timed. Runs only when named (not part of "make bench").
/// </summary>
public sealed class MixedLoadBenchmark : IBenchmark, IExplicitBenchmark
{
    public string Name => "mixed-load";

    private const string Dataset = "ilsvrc2012-val";
    private const int Models = 10;
    private const int ImagesPerModel = 5_000;
    private static readonly int[] Ladder = [5, 10, 15, 20, 30, 40, 60, 80, 120, 160];
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(60);
    private const double P99TargetMs = 100;

    private sealed record Sample(string Endpoint, double Ms, bool Error);

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var (classes, truth, files) = await context.RegisterIlsvrcValidationAsync(Dataset);
        var random = new Random(60);
        string Csv(int count, double accuracy)
        {
            var sb = new StringBuilder("image,label1\n");
            foreach (var i in Enumerable.Range(0, files.Length).OrderBy(_ => random.Next()).Take(count))
                sb.Append(files[i]).Append(',').Append(random.NextDouble() < accuracy ? truth[i] : classes[random.Next(classes.Length)]).Append('\n');
            return sb.ToString();
        }
        for (var m = 0; m < Models; m++)
        {
            (await context.Admin.PostAsJsonAsync("/api/models", new { slug = $"load-{m}", displayName = $"Load model {m}", kind = "model" }, ct)).EnsureSuccessStatusCode();
            (await context.Admin.PutAsync($"/api/models/load-{m}/predictions/{Dataset}?partial=true",
                new StringContent(Csv(ImagesPerModel, 0.6 + 0.03 * m), Encoding.UTF8, "text/csv"), ct)).EnsureSuccessStatusCode();
        }
        var reviewers = new List<HttpClient>();
        for (var r = 0; r < 8; r++)
        {
            (await context.Admin.PostAsJsonAsync("/api/users", new { name = $"load-reviewer-{r}", roles = new[] { "reviewer" } }, ct)).EnsureSuccessStatusCode();
            var token = (await (await context.Admin.PostAsJsonAsync($"/api/users/load-reviewer-{r}/tokens", new { name = "load" }, ct))
                .Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("token").GetString();
            var client = new HttpClient { BaseAddress = context.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            reviewers.Add(client);
        }
        (await context.Admin.PostAsJsonAsync("/api/models", new { slug = "load-uploader", displayName = "Uploads under load", kind = "model" }, ct)).EnsureSuccessStatusCode();
        var uploads = Enumerable.Range(0, 8).Select(_ => Csv(1_000, 0.7)).ToArray();
        var reads = new[]
        {
            ("leaderboard", $"/api/leaderboard?dataset={Dataset}"),
            ("leaderboard", $"/api/leaderboard?dataset={Dataset}&subset=dogs"),
            ("browse", $"/api/datasets/{Dataset}/classes?subset=dogs"),
            ("browse", $"/api/images?dataset={Dataset}&wnid={classes[207]}&limit=60"),
            ("browse", "/api/synsets?q=terrier&limit=20"),
            ("browse", "/api/datasets"),
        };

        async Task<Sample[]> Once(int i)
        {
            var roll = i % 10;
            var watch = Stopwatch.StartNew();
            try
            {
                if (roll < 7)
                {
                    var (endpoint, url) = reads[i % reads.Length];
                    var ok = (await context.Admin.GetAsync(url, ct)).IsSuccessStatusCode;
                    return [new Sample(endpoint, watch.Elapsed.TotalMilliseconds, !ok)];
                }
                if (roll < 9)
                {
                    var client = reviewers[i % reviewers.Count];
                    var next = await client.GetAsync($"/api/review/next?dataset={Dataset}", ct);
                    var nextSample = new Sample("review-next", watch.Elapsed.TotalMilliseconds, !next.IsSuccessStatusCode);
                    if (next.StatusCode != HttpStatusCode.OK) return [nextSample];
                    var image = await next.Content.ReadFromJsonAsync<JsonElement>(ct);
                    var id = image.GetProperty("image").GetProperty("id").GetInt64();
                    var verdicts = image.GetProperty("labels").EnumerateArray().Select(l => new
                    {
                        itemId = l.GetProperty("itemId").GetInt64(),
                        version = l.GetProperty("version").GetInt32(),
                        verdict = l.GetProperty("isOriginal").GetBoolean() ? "correct" : "wrong",
                        note = (string?)null,
                    }).ToArray();
                    watch.Restart();
                    var submit = await client.PostAsJsonAsync($"/api/review/images/{id}", new { verdicts, flag = (object?)null, secondsSpent = 3.0 }, ct);
                    return [nextSample, new Sample("review-submit", watch.Elapsed.TotalMilliseconds, !submit.IsSuccessStatusCode && submit.StatusCode != HttpStatusCode.Conflict)];
                }
                var upload = await context.Admin.PutAsync($"/api/models/load-uploader/predictions/{Dataset}?partial=true",
                    new StringContent(uploads[i % uploads.Length], Encoding.UTF8, "text/csv"), ct);
                return [new Sample("upload-1000", watch.Elapsed.TotalMilliseconds, !upload.IsSuccessStatusCode)];
            }
            catch (HttpRequestException)
            {
                return [new Sample("error", watch.Elapsed.TotalMilliseconds, true)];
            }
        }

        async Task<List<Sample>> RunAtAsync(int rate, TimeSpan duration)
        {
            var samples = new ConcurrentBag<Sample>();
            var inFlight = new SemaphoreSlim(64);
            var tasks = new List<Task>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; clock.Elapsed < duration; i++)
            {
                var due = TimeSpan.FromSeconds((double)i / rate);
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, ct);
                if (!await inFlight.WaitAsync(0, ct)) { samples.Add(new Sample("dropped", 0, true)); continue; }
                var n = i;
                tasks.Add(Task.Run(async () =>
                {
                    try { foreach (var s in await Once(n)) samples.Add(s); }
                    finally { inFlight.Release(); }
                }, ct));
            }
            await Task.WhenAll(tasks);
            return samples.ToList();
        }

        static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
        static double P99(List<Sample> samples) =>
            Percentile(samples.Where(s => !s.Error).Select(s => s.Ms).Order().ToList(), 0.99);

        // Caches (the leaderboard's first computation, JIT) warm up first; these samples are not reported.
        await RunAtAsync(Ladder[0], TimeSpan.FromSeconds(5));
        var held = Ladder[0];
        foreach (var rate in Ladder)
        {
            var probe = await RunAtAsync(rate, Probe);
            var p99 = P99(probe);
            var errors = probe.Count(s => s.Error);
            Console.WriteLine($"  probe {rate}/s: p99 {p99:F1} ms, errors {errors}");
            if (p99 >= P99TargetMs || errors > 0) break;
            held = rate;
        }

        var samples = await RunAtAsync(held, Hold);
        BenchContext.Report("load_rate_held_per_second", held, "F0");
        BenchContext.Report("load_requests", samples.Count, "F0");
        BenchContext.Report("load_p99_ms", P99(samples), "F1");
        foreach (var group in samples.Where(s => !s.Error).GroupBy(s => s.Endpoint).OrderBy(g => g.Key))
        {
            var sorted = group.Select(s => s.Ms).Order().ToList();
            BenchContext.Report($"load_{group.Key.Replace('-', '_')}_p50_ms", Percentile(sorted, 0.5), "F1");
            BenchContext.Report($"load_{group.Key.Replace('-', '_')}_p99_ms", Percentile(sorted, 0.99), "F1");
        }
        BenchContext.Report("load_errors", samples.Count(s => s.Error), "F0");
        BenchContext.Report("load_api_peak_rss_mb", context.Memory().PeakMb, "F0");
    }
}

/// <summary>A benchmark that runs only when named on the command line (long or heavy ones).</summary>
public interface IExplicitBenchmark;
