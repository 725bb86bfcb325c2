using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Microsoft.Extensions.Logging;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Faults;

/// <summary>Small body limits, so that oversized bodies stay cheap to send.</summary>
public sealed class FuzzFixture : ApiFixture
{
    public const long Limit = 256 * 1024;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Relabel:MaxPredictionBytes"] = Limit.ToString(),
        ["Relabel:MaxManifestBytes"] = Limit.ToString(),
        ["Relabel:MaxImportBytes"] = Limit.ToString(),
    };
}

/// <summary>
/// Thousands of malformed, truncated, oversized, wrongly encoded and mislabelled bodies from a fixed seed against
/// every upload and import endpoint: never a 5xx, never a partial write. The memory they cost is make bench's figures
/// fuzz_rss_growth_mb and fuzz_peak_rss_mb; here it is only printed (the test process is shared with other tests).
/// </summary>
public sealed class FuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>
{
    private const int Seed = 20261128;
    private const int Requests = 10_000;

    private static readonly string[] Tables =
        ["images", "predictions", "prediction_uploads", "prediction_sets", "review_items", "verdict_events", "image_flag_events",
         "label_space_classes", "imports", "jobs", "image_sets", "image_set_members"];

    private static readonly string[] Injections =
        ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "' or 1=1 --", "\"; drop table images; --",
         "<script>alert(1)</script>", "\0", "\u202e", "𝕏", "1e999999", "-99999999999999999999999999999", "NaN", "Infinity"];

    private sealed record Target(string Name, HttpMethod Method, string Path, string[] ContentTypes, Func<Random, string> Body);

    private sealed record Case(Target Target, byte[] Body, string? ContentType, bool Gzip, string Mutation);

    // Every base body is invalid by construction, and its first item already is: unknown images ("zz_…"), unknown
    // classes ("n9…"), so that a truncated, mutated or mislabelled copy can never become a valid write.
    private static readonly Target[] Targets =
    [
        new("predictions json", HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", ["application/json"], r =>
            "{\"predictions\":[" + string.Join(",", Enumerable.Range(0, r.Next(1, 6)).Select(i =>
                $"{{\"image\":\"zz_{i}.JPEG\",\"labels\":[\"{Pick(r)}\"],\"scores\":[{r.NextDouble()}]}}")) + "]}"),
        new("predictions csv", HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", ["text/csv"], r =>
            "image,label1\n" + string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"zz_{i}.JPEG,{Pick(r)}"))),
        new("predictions ndjson", HttpMethod.Put, "/api/models/fuzz-model/predictions/fuzz", ["application/x-ndjson"], r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"{{\"image\":\"zz_{i}.JPEG\",\"labels\":[{r.Next(0, 5)}]}}"))),
        new("manifest", HttpMethod.Post, "/api/datasets/fuzz/images/manifest", ["text/csv"], r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"fz_{i}.JPEG,n9{r.Next(1000000, 9999999)}"))),
        new("multilabel", HttpMethod.Post, "/api/datasets/fuzz/import/multilabel", ["application/json"], r =>
            "{\"initial_annots\":{" + string.Join(",", Enumerable.Range(0, r.Next(1, 4)).Select(i =>
                $"\"zz_{i}.JPEG\":{{\"correct\":[\"{Pick(r)}\"],\"wrong\":[],\"unclear\":[]}}")) + "},\"problematic_images\":{},\"imagenet_m\":[]}"),
        new("rater votes", HttpMethod.Post, "/api/datasets/fuzz/import/rater-votes", ["text/csv"], r =>
            string.Join("\n", Enumerable.Range(0, r.Next(1, 6)).Select(i => $"zz_{i}.JPEG,{Pick(r)},{r.Next(100)},yes"))),
        new("classes json", HttpMethod.Put, "/api/datasets/fuzz/classes", ["application/json"], r =>
            "[\"zz\"," + string.Join(",", PredictionData.Classes.Take(r.Next(1, 5)).Select(c => $"\"{c}\"")) + "]"),
        new("classes text", HttpMethod.Put, "/api/datasets/fuzz/classes", ["text/plain"], r =>
            "zz not a wnid\n" + string.Join("\n", PredictionData.Classes.Take(r.Next(1, 5)).Select(c => c + " a fish"))),
    ];

    private static string Pick(Random r) => PredictionData.Classes[r.Next(PredictionData.Classes.Length)];

    [Fact]
    public async Task Ten_thousand_bad_bodies_get_4xx_and_write_nothing()
    {
        using var admin = fixture.App.Admin();
        await PredictionData.CreateDatasetAsync(admin, "fuzz", images: 5);
        await PredictionData.CreateModelAsync(admin, "fuzz-model");
        var valid = PredictionData.Json(PredictionData.Rows(5, 2));
        Assert.Equal(HttpStatusCode.OK, (await PredictionData.PutAsync(admin, "fuzz-model", "fuzz", PredictionData.Body(valid, "application/json"))).StatusCode);

        await fixture.App.FollowupsDoneAsync();
        var before = await CountsAsync();
        fixture.App.Logs.MinimumLevel = LogLevel.Warning;
        var bombs = Bombs();
        var random = new Random(Seed);
        var cases = Enumerable.Range(0, Requests).Select(i => Generate(random, i, bombs)).ToList();

        // Warm up, then measure: the first requests fill caches and pools that are not growth.
        Compact();
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetBefore = Process.GetCurrentProcess().WorkingSet64;
        var watch = Stopwatch.StartNew();

        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<(string, int), int>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var peakWorkingSet = workingSetBefore;
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (c, ct) =>
        {
            using var request = new HttpRequestMessage(c.Target.Method, c.Target.Path) { Content = Content(c) };
            using var response = await admin.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate((c.Target.Name, status), 1, (_, n) => n + 1);
            if (status >= 500 || status < 400)
                failures.Enqueue($"{c.Target.Name} / {c.Mutation} -> {status}: {Shorten(await response.Content.ReadAsStringAsync(ct))} body: {Shorten(Encoding.UTF8.GetString(c.Body))}");
            else if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                failures.Enqueue($"{c.Target.Name} / {c.Mutation} -> {status} without problem+json");
            var workingSet = Process.GetCurrentProcess().WorkingSet64;
            if (workingSet > Interlocked.Read(ref peakWorkingSet)) Interlocked.Exchange(ref peakWorkingSet, workingSet);
        });

        Compact();
        var managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        var workingSetAfter = Process.GetCurrentProcess().WorkingSet64;
        output.WriteLine($"{Requests} requests in {watch.Elapsed.TotalSeconds:F1} s");
        foreach (var ((target, status), n) in statuses.OrderBy(s => s.Key))
            output.WriteLine($"  {target,-20} {status}: {n}");
        output.WriteLine($"captured log lines: {fixture.App.Logs.Lines.Count}, {fixture.App.Logs.Lines.Sum(l => (long)l.Length) * 2 / 1e6:F0} MB");
        output.WriteLine($"managed heap {managedBefore / 1e6:F0} -> {managedAfter / 1e6:F0} MB; working set {workingSetBefore / 1e6:F0} -> {workingSetAfter / 1e6:F0} MB (peak {peakWorkingSet / 1e6:F0} MB)");
        foreach (var failure in failures.Take(20)) output.WriteLine(failure);

        Assert.True(failures.IsEmpty, $"{failures.Count} answers were not a 4xx problem: {string.Join("\n", failures.Take(10))}");
        Assert.Equal(before, await CountsAsync());
        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/health")).StatusCode);
    }

    private static void Compact()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static HttpContent Content(Case c)
    {
        var content = new ByteArrayContent(c.Body);
        if (c.ContentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        if (c.Gzip) content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    /// <summary>Gzip bodies that expand a thousandfold: zeros, and one endless CSV line.</summary>
    private static byte[][] Bombs() =>
    [
        Gzip(new byte[64 * 1024 * 1024]),
        Gzip(Encoding.ASCII.GetBytes(new string('a', 32 * 1024 * 1024))),
        Gzip(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("zz.JPEG,n01440764\n", 2_000_000)))),
    ];

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(bytes);
        return buffer.ToArray();
    }

    private static Case Generate(Random r, int i, byte[][] bombs)
    {
        var target = Targets[r.Next(Targets.Length)];
        var text = target.Body(r);
        var bytes = Encoding.UTF8.GetBytes(text);
        var type = target.ContentTypes[0];
        var gzip = false;
        string mutation;
        switch (r.Next(12))
        {
            case 0:
                mutation = "truncated";
                bytes = bytes[..r.Next(bytes.Length)];
                break;
            case 1:
                mutation = "bytes flipped";
                for (var n = r.Next(1, 8); n > 0; n--) bytes[r.Next(bytes.Length)] = (byte)r.Next(256);
                break;
            case 2:
                mutation = "invalid UTF-8";
                byte[][] bad = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82]];
                var at = r.Next(bytes.Length);
                bytes = [.. bytes[..at], .. bad[r.Next(bad.Length)], .. bytes[at..]];
                break;
            case 3:
                mutation = "injection strings";
                bytes = Encoding.UTF8.GetBytes(text.Replace("zz_0", Injections[r.Next(Injections.Length)]).Replace("n0", Injections[r.Next(Injections.Length)]));
                break;
            case 4:
                mutation = "huge numbers";
                string[] numbers = ["1e999999", "99999999999999999999999999999999999999", "-1", "0.000000000000000000000000000000000001e-400", "1" + new string('0', 5000)];
                bytes = Encoding.UTF8.GetBytes(text.Replace("0.", numbers[r.Next(numbers.Length)] + ",0.").Replace("[0", "[" + numbers[r.Next(numbers.Length)]).Replace("[1", "[" + numbers[r.Next(numbers.Length)]));
                break;
            case 5:
                mutation = "deeply nested JSON";
                var depth = r.Next(2) == 0 ? r.Next(20, 200) : r.Next(10_000, 100_000);
                var open = r.Next(2) == 0 ? "[" : "{\"a\":";
                bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, depth)) + "1" + new string(open == "[" ? ']' : '}', depth));
                type = r.Next(2) == 0 ? type : "application/json";
                break;
            case 6:
                mutation = "mismatched content type";
                string?[] types = [null, "application/xml", "multipart/form-data; boundary=x", "application/octet-stream", "text/html", "image/png",
                    "application/json; charset=utf-16", "text/csv; charset=latin1", "application/x-www-form-urlencoded", "garbage/////", ""];
                type = types[r.Next(types.Length)]!;
                if (type == "application/json; charset=utf-16") bytes = Encoding.Unicode.GetBytes(text);
                break;
            case 7:
                mutation = "wrong encoding";
                Encoding[] encodings = [Encoding.Unicode, Encoding.BigEndianUnicode, Encoding.UTF32, Encoding.Latin1];
                var encoding = encodings[r.Next(encodings.Length)];
                bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes(text + "é€")];
                break;
            case 8:
                mutation = "not gzip";
                gzip = true;
                break;
            case 9:
                if (i % 40 == 9)
                {
                    mutation = "gzip bomb";
                    bytes = bombs[r.Next(bombs.Length)];
                    gzip = true;
                }
                else
                {
                    mutation = "gzip of a truncated body";
                    var zipped = Gzip(bytes);
                    bytes = zipped[..Math.Max(1, r.Next(zipped.Length))];
                    gzip = true;
                }
                break;
            case 10:
                if (i % 40 == 10)
                {
                    mutation = "oversized";
                    bytes = new byte[FuzzFixture.Limit + 1 + r.Next(64 * 1024)];
                    r.NextBytes(bytes);
                }
                else
                {
                    mutation = "random bytes";
                    bytes = new byte[r.Next(0, 2048)];
                    r.NextBytes(bytes);
                }
                break;
            default:
                mutation = "as generated";
                break;
        }
        return new Case(target, bytes, type, gzip, mutation);
    }

    private async Task<Dictionary<string, long>> CountsAsync()
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in Tables)
            counts[table] = await connection.ExecuteScalarAsync<long>($"select count(*) from {table}");
        return counts;
    }
}
