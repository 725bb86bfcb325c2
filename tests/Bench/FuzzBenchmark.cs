using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;

namespace Relabel.Bench;

/// <summary>
/// The API's memory under a stream of bad bodies (truncated, mutated, wrongly encoded, mislabelled, and gzip bombs that
/// expand a thousandfold) against the upload and import endpoints: its resident set after a warm-up, after the stream
/// (the growth), and at its peak. FuzzTests checks that every answer is a 4xx problem and nothing is written.
/// </summary>
public sealed class FuzzBenchmark : IBenchmark
{
    public string Name => "fuzz";

    private const int WarmUp = 400;
    private const int Requests = 4_000;
    private static readonly string[] Classes = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475"];

    private sealed record Target(HttpMethod Method, string Path, string ContentType, Func<Random, string> Body);

    // Every base body names unknown images or classes, so no mutation of it can become a valid write.
    private static readonly Target[] Targets =
    [
        new(HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", "application/json", r =>
            "{\"predictions\":[" + string.Join(",", Enumerable.Range(0, r.Next(1, 6)).Select(i =>
                $"{{\"image\":\"zz_{i}.JPEG\",\"labels\":[\"{Pick(r)}\"],\"scores\":[{r.NextDouble()}]}}")) + "]}"),
        new(HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", "text/csv", r =>
            "image,label1\n" + string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"zz_{i}.JPEG,{Pick(r)}"))),
        new(HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", "application/x-ndjson", r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"{{\"image\":\"zz_{i}.JPEG\",\"labels\":[{r.Next(0, 5)}]}}"))),
        new(HttpMethod.Post, "/api/datasets/fuzz/images/manifest", "text/csv", r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"fz_{i}.JPEG,n9{r.Next(1000000, 9999999)}"))),
        new(HttpMethod.Post, "/api/datasets/fuzz/import/multilabel", "application/json", r =>
            "{\"initial_annots\":{" + string.Join(",", Enumerable.Range(0, r.Next(1, 4)).Select(i =>
                $"\"zz_{i}.JPEG\":{{\"correct\":[\"{Pick(r)}\"],\"wrong\":[],\"unclear\":[]}}")) + "},\"problematic_images\":{},\"imagenet_m\":[]}"),
        new(HttpMethod.Post, "/api/datasets/fuzz/import/rater-votes", "text/csv", r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"zz_{i}.JPEG,{Pick(r)},{r.Next(100)},yes"))),
    ];

    private static string Pick(Random r) => Classes[r.Next(Classes.Length)];

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        (await admin.PostAsJsonAsync("/api/datasets", new { slug = "fuzz", name = "fuzz", classes = Classes }, ct)).EnsureSuccessStatusCode();
        (await admin.PostAsync("/api/datasets/fuzz/images/manifest",
            new StringContent(string.Join("\n", Classes.Select((c, i) => $"img_{i}.JPEG,{c}")), Encoding.UTF8, "text/csv"), ct)).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/models", new { slug = "fuzz-model", displayName = "fuzz", kind = "model" }, ct)).EnsureSuccessStatusCode();

        byte[][] bombs =
        [
            Gzip(new byte[64 * 1024 * 1024]),
            Gzip(Encoding.ASCII.GetBytes(new string('a', 32 * 1024 * 1024))),
            Gzip(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("zz.JPEG,n01440764\n", 2_000_000)))),
        ];
        var random = new Random(20261128);
        var cases = Enumerable.Range(0, WarmUp + Requests).Select(i => Generate(random, i, bombs)).ToList();

        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task SendAsync(IEnumerable<(Target Target, byte[] Body, bool Gzip)> batch) =>
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (c, token) =>
            {
                var content = new ByteArrayContent(c.Body);
                content.Headers.TryAddWithoutValidation("Content-Type", c.Target.ContentType);
                if (c.Gzip) content.Headers.ContentEncoding.Add("gzip");
                using var request = new HttpRequestMessage(c.Target.Method, c.Target.Path) { Content = content };
                using var response = await admin.SendAsync(request, token);
                if ((int)response.StatusCode is < 400 or >= 500)
                    unexpected.Enqueue($"{c.Target.Method} {c.Target.Path} ({c.Target.ContentType}{(c.Gzip ? ", gzip" : "")}): {(int)response.StatusCode}");
            });

        await SendAsync(cases.Take(WarmUp));
        var before = context.Memory().RssMb;
        var (_, peak) = await context.WatchMemoryAsync(async () => { await SendAsync(cases.Skip(WarmUp)); return 0; });
        var after = context.Memory().RssMb;
        // FuzzTests fails on any answer but a 4xx problem (with small body limits); here, with the default limits,
        // such answers are counted and named rather than stopping the benchmark.
        foreach (var group in unexpected.GroupBy(u => u)) Console.WriteLine($"  not a 4xx: {group.Count()} x {group.Key}");
        BenchContext.Report("fuzz_answers_not_4xx", unexpected.Count, "F0");
        Console.WriteLine($"  {Requests} bad bodies after {WarmUp} of warm-up; resident set {before:F0} -> {after:F0} MB");
        BenchContext.Report("fuzz_rss_growth_mb", after - before, "F0");
        BenchContext.Report("fuzz_peak_rss_mb", peak, "F0");
    }

    private static (Target, byte[], bool) Generate(Random r, int i, byte[][] bombs)
    {
        var target = Targets[r.Next(Targets.Length)];
        var bytes = Encoding.UTF8.GetBytes(target.Body(r));
        if (i % 40 == 9) return (target, bombs[r.Next(bombs.Length)], true);
        switch (r.Next(6))
        {
            case 0:
                return (target, bytes[..r.Next(bytes.Length)], false);
            case 1:
                for (var n = r.Next(1, 8); n > 0; n--) bytes[r.Next(bytes.Length)] = (byte)r.Next(256);
                return (target, bytes, false);
            case 2:
                var zipped = Gzip(bytes);
                return (target, zipped[..Math.Max(1, r.Next(zipped.Length))], true);
            case 3:
                var noise = new byte[r.Next(0, 2048)];
                r.NextBytes(noise);
                return (target, noise, false);
            default:
                return (target, bytes, false);
        }
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(bytes);
        return buffer.ToArray();
    }
}
