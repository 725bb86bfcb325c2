using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Bench;

/// <summary>
/// The review loop under load: 50,000 ILSVRC-2012 validation images with 100 models' top-1 predictions (seeded by
/// binary COPY), then 16 reviewers on loopback each doing GET /api/review/next + POST /api/review/images/{id}.
/// Reviewers look at each image before they submit: 0.25-1 s here (people take several seconds), so 16 of them
/// send about 25 images a second, far more than a real team; the round trip is the time of the two requests.
/// A second run drops the looking time, each reviewer sending the next request as soon as the last answered:
/// that measures capacity (the review_saturated_ figures), where latency is just reviewers / throughput.
/// RELABEL_BENCH_TRACE=file writes each round trip (UTC time, seconds into its run, reviewer, next ms, submit ms) to find when
/// the slow ones happen.
/// </summary>
public sealed class ReviewRoundtripBenchmark : IBenchmark
{
    public string Name => "review-roundtrip";

    private const string Dataset = "ilsvrc2012-val";
    private const int Models = 100;
    /// <summary>16 as the issue asks; RELABEL_BENCH_REVIEWERS=1 shows the latency of one reviewer alone.</summary>
    private static readonly int Reviewers = int.Parse(Environment.GetEnvironmentVariable("RELABEL_BENCH_REVIEWERS") ?? "16");
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);
    /// <summary>Long enough for about a thousand round trips at the looking pace: a p99 of fewer is a handful of samples.</summary>
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan SaturatedDuration = TimeSpan.FromSeconds(20);
    /// <summary>How long a reviewer looks at an image before submitting, uniformly distributed.</summary>
    private static readonly (double Min, double Max) LookingSeconds = (0.25, 1.0);

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        var (classes, truth, _) = await context.RegisterIlsvrcValidationAsync(Dataset);

        var seeding = Stopwatch.StartNew();
        await SeedPredictionsAsync(context, classes, truth);
        BenchContext.Report("review_seed_seconds", seeding.Elapsed.TotalSeconds, "F1");

        var clients = new List<HttpClient>();
        for (var r = 0; r < Reviewers; r++)
        {
            var name = $"bench-reviewer-{r}";
            await Ensure(admin.PostAsJsonAsync("/api/users", new { name, roles = new[] { "reviewer" } }, ct));
            var token = await (await Ensure(admin.PostAsJsonAsync($"/api/users/{name}/tokens", new { name = "bench" }, ct)))
                .Content.ReadFromJsonAsync<JsonElement>(ct);
            var client = new HttpClient { BaseAddress = context.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
            clients.Add(client);
        }

        // The first "next" after a start: model counts come from the database while the models' predictions load into
        // the leaderboard's cache in the background. The leaderboard then waits for that load, so that the warm-up and
        // the measured runs see a server whose caches are warm, as on a server that has been up a while.
        var first = Stopwatch.StartNew();
        await Ensure(clients[0].GetAsync($"/api/review/next?dataset={Dataset}", ct));
        BenchContext.Report("review_first_next_ms", first.Elapsed.TotalMilliseconds, "F0");
        await Ensure(admin.GetAsync($"/api/leaderboard?dataset={Dataset}", ct));
        await RunLoadAsync(clients, WarmUp, lookingSeconds: (0, 0), ct);
        foreach (var (prefix, looking) in new[] { ("review", LookingSeconds), ("review_saturated", (0.0, 0.0)) })
        {
            Interlocked.Exchange(ref conflicts, 0);
            // The disk is measured beside the looking run only: at capacity its syncs would only take a share.
            await using var disk = prefix == "review" ? new DiskProbe() : null;
            var from = Stopwatch.GetTimestamp();
            var (roundTrips, verdicts, elapsed) = await RunLoadAsync(clients, prefix == "review" ? Duration : SaturatedDuration, looking, ct);
            var until = Stopwatch.GetTimestamp();
            var latencies = roundTrips.Select(t => t.Milliseconds).Order().ToList();
            var nexts = roundTrips.Select(t => t.NextMilliseconds).Order().ToList();
            var submits = roundTrips.Select(t => t.SubmitMilliseconds).Order().ToList();
            BenchContext.Report($"{prefix}_roundtrips", latencies.Count, "F0");
            BenchContext.Report($"{prefix}_roundtrip_p50_ms", Percentile(latencies, 0.50), "F2");
            BenchContext.Report($"{prefix}_roundtrip_p99_ms", Percentile(latencies, 0.99), "F2");
            BenchContext.Report($"{prefix}_next_p50_ms", Percentile(nexts, 0.50), "F2");
            BenchContext.Report($"{prefix}_next_p99_ms", Percentile(nexts, 0.99), "F2");
            BenchContext.Report($"{prefix}_submit_p50_ms", Percentile(submits, 0.50), "F2");
            BenchContext.Report($"{prefix}_submit_p99_ms", Percentile(submits, 0.99), "F2");
            BenchContext.Report($"{prefix}_verdicts_per_second", verdicts / elapsed.TotalSeconds, "F0");
            BenchContext.Report($"{prefix}_submit_conflicts", Interlocked.Read(ref conflicts), "F0");
            if (disk is null) continue;

            // The reference measured in the same run: how long the disk took to sync meanwhile. A stall there stalls every
            // durable commit, so the round trips that overlapped one are counted, and the p99 of the others shown apart.
            Console.WriteLine($"disk probe in {disk.Folder}");
            var syncs = disk.Syncs(from, until);
            var syncTimes = syncs.Select(DiskProbe.Milliseconds).Order().ToList();
            var stalls = syncs.Where(s => DiskProbe.Milliseconds(s) > StallMilliseconds).ToList();
            var clear = roundTrips
                .Where(t => !DiskProbe.Overlaps(stalls, t.NextStarted, t.NextEnded) && !DiskProbe.Overlaps(stalls, t.SubmitStarted, t.SubmitEnded))
                .Select(t => t.Milliseconds).Order().ToList();
            BenchContext.Report("review_disk_sync_p50_ms", Percentile(syncTimes, 0.50), "F2");
            BenchContext.Report("review_disk_sync_p99_ms", Percentile(syncTimes, 0.99), "F2");
            BenchContext.Report("review_disk_sync_max_ms", syncTimes.Count == 0 ? double.NaN : syncTimes[^1], "F1");
            BenchContext.Report("review_disk_stalls", stalls.Count, "F0");
            BenchContext.Report("review_roundtrips_during_disk_stalls", latencies.Count - clear.Count, "F0");
            BenchContext.Report("review_roundtrip_p99_outside_disk_stalls_ms", Percentile(clear, 0.99), "F2");
        }
        foreach (var client in clients) client.Dispose();
    }

    /// <summary>
    /// 100 models, each right on about 70-85% of the images; their errors fall on four confusable classes per image
    /// (as real models' do), so an image has 1-5 review items. Items are the original label and every top-1.
    /// </summary>
    private static async Task SeedPredictionsAsync(BenchContext context, string[] classes, string[] truth)
    {
        var ct = context.CancellationToken;
        await using var connection = await context.OpenConnectionAsync();
        var (datasetId, labelSpaceId) = (0L, 0L);
        await using (var command = new NpgsqlCommand("select id, label_space_id from datasets where slug = @slug", connection))
        {
            command.Parameters.AddWithValue("slug", Dataset);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            (datasetId, labelSpaceId) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        var imageIds = new long[truth.Length];
        await using (var command = new NpgsqlCommand("select id from images where dataset_id = @datasetId order by file_name", connection))
        {
            command.Parameters.AddWithValue("datasetId", datasetId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            for (var i = 0; await reader.ReadAsync(ct); i++) imageIds[i] = reader.GetInt64(0);
        }
        var index = classes.Select((wnid, i) => (wnid, i)).ToDictionary(c => c.wnid, c => (short)c.i);
        var random = new Random(2012);
        var confusable = truth.Select(_ => Enumerable.Range(0, 4).Select(_ => (short)random.Next(1000)).ToArray()).ToArray();

        // As the API's role: predictions check their references once per copy (migration 0016), not per row.
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var uploads = new long[Models];
        for (var m = 0; m < Models; m++)
        {
            await using var command = new NpgsqlCommand(
                """
                with model as (
                    insert into models (slug, display_name, kind, owner_id)
                    values (@slug, @slug, 'model', (select id from users where name = 'admin')) returning id
                ), upload as (
                    insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
                    select id, @datasetId, (select id from users where name = 'admin'), 'json', @rows, 1, false, repeat('0', 64), 'applied', 0
                    from model returning id, model_id
                )
                insert into prediction_sets (model_id, dataset_id, upload_id, k, rows, checksum)
                select model_id, @datasetId, id, 1, @rows, repeat('0', 64) from upload
                returning upload_id
                """,
                connection, transaction);
            command.Parameters.AddWithValue("slug", $"bench-model-{m:D3}");
            command.Parameters.AddWithValue("datasetId", datasetId);
            command.Parameters.AddWithValue("rows", truth.Length);
            uploads[m] = (long)(await command.ExecuteScalarAsync(ct))!;
        }

        var items = truth.Select(t => new HashSet<short> { index[t] }).ToArray();
        await using (var writer = await connection.BeginBinaryImportAsync("copy prediction_blocks (upload_id, block, k, labels, scores) from stdin (format binary)", ct))
        {
            for (var m = 0; m < Models; m++)
            {
                var accuracy = 0.70 + 0.15 * m / Models;
                var rows = new List<(long, short[])>(truth.Length);
                for (var i = 0; i < truth.Length; i++)
                {
                    var top1 = random.NextDouble() < accuracy ? index[truth[i]] : confusable[i][random.Next(4)];
                    items[i].Add(top1);
                    rows.Add((imageIds[i], [top1]));
                }
                await PredictionBlocks.WriteAsync(writer, uploads[m], rows, ct);
            }
            await writer.CompleteAsync(ct);
        }
        // Review items go in through their triggers: the review queue is kept by them.
        await using (var writer = await connection.BeginBinaryImportAsync("copy review_items (image_id, wnid) from stdin (format binary)", ct))
        {
            for (var i = 0; i < truth.Length; i++)
                foreach (var label in items[i])
                {
                    await writer.StartRowAsync(ct);
                    await writer.WriteAsync(imageIds[i], NpgsqlDbType.Bigint, ct);
                    await writer.WriteAsync(classes[label], NpgsqlDbType.Text, ct);
                }
            await writer.CompleteAsync(ct);
        }
        await transaction.CommitAsync(ct);
        // The seed wrote 5 million rows in seconds: let the database settle (statistics, visibility map, and the
        // checkpoint that writing them started) before reviewers come, as a server would have between loading a
        // testbed and its reviewers' first day.
        await using (var vacuum = new NpgsqlCommand("vacuum analyze", connection) { CommandTimeout = 600 })
            await vacuum.ExecuteNonQueryAsync(ct);
        // A checkpoint is the superuser's (the API's role may not): the harness's, like creating the database.
        await using (var admin = await context.OpenAdminConnectionAsync())
        await using (var checkpoint = new NpgsqlCommand("checkpoint", admin) { CommandTimeout = 600 })
            await checkpoint.ExecuteNonQueryAsync(ct);
        BenchContext.Report("review_items", items.Sum(i => i.Count), "F0");
    }

    /// <summary>A disk sync slower than this is a stall: the round trip's whole budget.</summary>
    private const double StallMilliseconds = 25;

    private static long conflicts;

    /// <summary>One reviewer's next and submit, with when each ran (Stopwatch timestamps).</summary>
    private sealed record RoundTrip(long NextStarted, long NextEnded, long SubmitStarted, long SubmitEnded)
    {
        public double NextMilliseconds => Stopwatch.GetElapsedTime(NextStarted, NextEnded).TotalMilliseconds;
        public double SubmitMilliseconds => Stopwatch.GetElapsedTime(SubmitStarted, SubmitEnded).TotalMilliseconds;
        public double Milliseconds => NextMilliseconds + SubmitMilliseconds;
    }
    private static readonly StreamWriter? Trace = Environment.GetEnvironmentVariable("RELABEL_BENCH_TRACE") is { } path ? new StreamWriter(path) { AutoFlush = true } : null;

    private static async Task<(List<RoundTrip> RoundTrips, long Verdicts, TimeSpan Elapsed)> RunLoadAsync(
        List<HttpClient> clients, TimeSpan duration, (double Min, double Max) lookingSeconds, CancellationToken ct)
    {
        var roundTrips = new List<RoundTrip>();
        long verdicts = 0;
        var clock = Stopwatch.StartNew();
        var workers = clients.Select((client, r) => Task.Run(async () =>
        {
            var random = new Random(r);
            var mine = new List<RoundTrip>();
            long written = 0;
            // Reviewers who look at images are each somewhere in their own cycle, not all asking at the same instant:
            // each starts after a random part of one looking time (a synchronised start is a burst no team makes).
            if (lookingSeconds.Max > 0) await Task.Delay(TimeSpan.FromSeconds(random.NextDouble() * lookingSeconds.Max), ct);
            while (clock.Elapsed < duration && !ct.IsCancellationRequested)
            {
                var nextStarted = Stopwatch.GetTimestamp();
                var next = await client.GetAsync($"/api/review/next?dataset={Dataset}", ct);
                var nextEnded = Stopwatch.GetTimestamp();
                if (next.StatusCode == System.Net.HttpStatusCode.NoContent) break;
                next.EnsureSuccessStatusCode();
                var review = await next.Content.ReadFromJsonAsync<JsonElement>(ct);
                var image = review.GetProperty("image").GetProperty("id").GetInt64();
                var original = review.GetProperty("image").GetProperty("originalWnid").GetString();
                var body = new
                {
                    verdicts = review.GetProperty("labels").EnumerateArray().Select(l => new
                    {
                        itemId = l.GetProperty("itemId").GetInt64(),
                        version = l.GetProperty("version").GetInt32(),
                        verdict = l.GetProperty("wnid").GetString() == original ? "correct" : random.Next(10) == 0 ? "unclear" : "wrong",
                    }).ToArray(),
                    secondsSpent = 5.0,
                };
                var looking = lookingSeconds.Min + random.NextDouble() * (lookingSeconds.Max - lookingSeconds.Min);
                if (looking > 0) await Task.Delay(TimeSpan.FromSeconds(looking), ct);
                var submitStarted = Stopwatch.GetTimestamp();
                var submit = await client.PostAsJsonAsync($"/api/review/images/{image}", body, ct);
                if (submit.StatusCode == System.Net.HttpStatusCode.Conflict) { Interlocked.Increment(ref conflicts); continue; }
                submit.EnsureSuccessStatusCode();
                var result = await submit.Content.ReadFromJsonAsync<JsonElement>(ct);
                var trip = new RoundTrip(nextStarted, nextEnded, submitStarted, Stopwatch.GetTimestamp());
                mine.Add(trip);
                if (Trace is not null) lock (Trace) Trace.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {clock.Elapsed.TotalSeconds:F3} {r} {trip.NextMilliseconds:F2} {trip.SubmitMilliseconds:F2}");
                written += result.GetProperty("eventsWritten").GetInt32();
            }
            lock (roundTrips) roundTrips.AddRange(mine);
            Interlocked.Add(ref verdicts, written);
        }, ct)).ToList();
        await Task.WhenAll(workers);
        return (roundTrips, verdicts, clock.Elapsed);
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
