using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Relabel.Bench;

/// <summary>
/// A lab pushes its model zoo into one dataset, a model a second (each a 50,000-image top-5 upload), while 16 reviewers
/// work on another (5,000 images, ten models' top-1 labels; looking 0.25-1 s at each image): the review_next figures
/// of that load, beside the same reviewers without the stream in the same run (the reference). Readers of the second
/// dataset must not wait for the first dataset's upload follow-ups.
/// </summary>
public sealed class UploadStreamBenchmark : IBenchmark
{
    public string Name => "upload-stream";

    private const string Zoo = "ilsvrc2012-val";
    private const string Reviewed = "reviewed";
    private const int ReviewedImages = 5_000;
    private const int Reviewers = 16;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ReferenceDuration = TimeSpan.FromSeconds(15);

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        var (classes, truth, files) = await context.RegisterIlsvrcValidationAsync(Zoo);

        // The reviewed dataset: the first 5,000 validation images, ten models' top-1 labels (uploaded: items follow).
        await Ensure(admin.PostAsJsonAsync("/api/datasets", new { slug = Reviewed, name = "Reviewed", labelSpaceOf = Zoo }, ct));
        await Ensure(admin.PostAsync($"/api/datasets/{Reviewed}/images/manifest",
            new StringContent(string.Join("\n", files.Take(ReviewedImages).Select((f, i) => $"{f},{truth[i]}")), Encoding.UTF8, "text/csv"), ct));
        var random = new Random(5000);
        for (var m = 0; m < 10; m++)
        {
            await Ensure(admin.PostAsJsonAsync("/api/models", new { slug = $"reviewed-{m}", displayName = $"Reviewed {m}", kind = "model" }, ct));
            var rows = files.Take(ReviewedImages).Select((f, i) => new
            {
                image = f,
                labels = new[] { random.NextDouble() < 0.75 ? truth[i] : classes[random.Next(classes.Length)] },
            });
            await Ensure(admin.PutAsync($"/api/models/reviewed-{m}/predictions/{Reviewed}", Json(JsonSerializer.SerializeToUtf8Bytes(new { predictions = rows })), ct));
        }

        // The zoo's models: 50,000 top-5 rows each, a new random set for every upload.
        var index = Enumerable.Range(0, classes.Length).ToArray();
        byte[] ZooModel(int seed)
        {
            var r = new Random(seed);
            var rows = files.Select((f, i) =>
            {
                var labels = new List<string>(5) { r.NextDouble() < 0.76 ? truth[i] : classes[r.Next(classes.Length)] };
                while (labels.Count < 5)
                {
                    var next = classes[index[r.Next(index.Length)]];
                    if (!labels.Contains(next)) labels.Add(next);
                }
                return new { image = f, labels };
            });
            return JsonSerializer.SerializeToUtf8Bytes(new { predictions = rows });
        }
        var bodies = Enumerable.Range(0, 4).Select(ZooModel).ToArray();

        var clients = new List<HttpClient>();
        for (var r = 0; r < Reviewers; r++)
        {
            var name = $"stream-reviewer-{r}";
            await Ensure(admin.PostAsJsonAsync("/api/users", new { name, roles = new[] { "reviewer" } }, ct));
            var token = await (await Ensure(admin.PostAsJsonAsync($"/api/users/{name}/tokens", new { name = "bench" }, ct)))
                .Content.ReadFromJsonAsync<JsonElement>(ct);
            var client = new HttpClient { BaseAddress = context.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
            clients.Add(client);
        }
        await Ensure(admin.GetAsync($"/api/leaderboard?dataset={Reviewed}", ct));
        await Ensure(clients[0].GetAsync($"/api/review/next?dataset={Reviewed}", ct));

        // A warm-up (the code paths compiled and optimised, as on a server that has been up a while), then the reference:
        // the same reviewers, nothing else going on.
        await ReviewAsync(clients, TimeSpan.FromSeconds(5), ct);
        var reference = await ReviewAsync(clients, ReferenceDuration, ct);
        BenchContext.Report("review_next_p50_without_stream_ms", Percentile(reference, 0.50), "F2");
        BenchContext.Report("review_next_p99_without_stream_ms", Percentile(reference, 0.99), "F2");

        // The stream: a new model every second (or as soon as the last one answered, if it took longer).
        using var stop = new CancellationTokenSource();
        var uploads = new List<double>();
        var boards = new List<double>();
        var stream = Task.Run(async () =>
        {
            for (var m = 0; !stop.IsCancellationRequested; m++)
            {
                var started = Stopwatch.StartNew();
                await Ensure(admin.PostAsJsonAsync("/api/models", new { slug = $"zoo-{m}", displayName = $"Zoo {m}", kind = "model" }, ct));
                await Ensure(admin.PutAsync($"/api/models/zoo-{m}/predictions/{Zoo}", Json(bodies[m % bodies.Length]), ct));
                lock (uploads) uploads.Add(started.Elapsed.TotalSeconds);
                var rest = TimeSpan.FromSeconds(1) - started.Elapsed;
                if (rest > TimeSpan.Zero) await Task.Delay(rest, ct);
            }
        }, ct);
        // A reader of the reviewed dataset's board, a new variant every second (computed, not cached).
        var reader = Task.Run(async () =>
        {
            using var anonymous = new HttpClient { BaseAddress = context.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };
            for (var v = 1; !stop.IsCancellationRequested; v++)
            {
                var started = Stopwatch.StartNew();
                var alpha = (0.001 * (v % 500 + 1)).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
                await Ensure(anonymous.GetAsync($"/api/leaderboard?dataset={Reviewed}&alpha={alpha}", ct));
                lock (boards) boards.Add(started.Elapsed.TotalMilliseconds);
                await Task.Delay(1000, ct);
            }
        }, ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var during = await ReviewAsync(clients, Duration, ct);
        await stop.CancelAsync();
        await Task.WhenAll(stream, reader);

        BenchContext.Report("review_nexts_during_upload_stream", during.Count, "F0");
        BenchContext.Report("review_next_p50_during_upload_stream_ms", Percentile(during, 0.50), "F2");
        BenchContext.Report("review_next_p99_during_upload_stream_ms", Percentile(during, 0.99), "F2");
        BenchContext.Report("review_next_max_during_upload_stream_ms", during.Count == 0 ? double.NaN : during[^1], "F1");
        BenchContext.Report("leaderboard_variant_p99_during_upload_stream_ms", Percentile(boards.Order().ToList(), 0.99), "F1");
        BenchContext.Report("upload_stream_uploads", uploads.Count, "F0");
        BenchContext.Report("upload_stream_upload_p50_seconds", Percentile(uploads.Order().ToList(), 0.50), "F2");
        foreach (var client in clients) client.Dispose();
    }

    /// <summary>The reviewers' next + submit loop; returns every "next" latency in ms, sorted.</summary>
    private static async Task<List<double>> ReviewAsync(List<HttpClient> clients, TimeSpan duration, CancellationToken ct)
    {
        var latencies = new List<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select((client, r) => Task.Run(async () =>
        {
            var random = new Random(r + (int)clock.ElapsedTicks);
            var mine = new List<double>();
            await Task.Delay(TimeSpan.FromSeconds(random.NextDouble()), ct);
            while (clock.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                var next = await client.GetAsync($"/api/review/next?dataset={Reviewed}", ct);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (next.StatusCode == HttpStatusCode.NoContent) break;
                next.EnsureSuccessStatusCode();
                var review = await next.Content.ReadFromJsonAsync<JsonElement>(ct);
                var original = review.GetProperty("image").GetProperty("originalWnid").GetString();
                var body = new
                {
                    verdicts = review.GetProperty("labels").EnumerateArray().Select(l => new
                    {
                        itemId = l.GetProperty("itemId").GetInt64(),
                        version = l.GetProperty("version").GetInt32(),
                        verdict = l.GetProperty("wnid").GetString() == original ? "correct" : "wrong",
                    }).ToArray(),
                    secondsSpent = 5.0,
                };
                await Task.Delay(TimeSpan.FromSeconds(0.25 + 0.75 * random.NextDouble()), ct);
                var submit = await client.PostAsJsonAsync($"/api/review/images/{review.GetProperty("image").GetProperty("id").GetInt64()}", body, ct);
                if (submit.StatusCode != HttpStatusCode.Conflict) submit.EnsureSuccessStatusCode();
            }
            lock (latencies) latencies.AddRange(mine);
        }, ct)));
        latencies.Sort();
        return latencies;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private static async Task<HttpResponseMessage> Ensure(Task<HttpResponseMessage> call)
    {
        var response = await call;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: " +
                $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }
}
