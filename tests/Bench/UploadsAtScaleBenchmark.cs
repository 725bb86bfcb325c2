using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Text;

namespace Relabel.Bench;

/// <summary>
/// A zoo loaded through HTTP: about 1,000 top-5 prediction sets of the 50,000 ILSVRC-2012 validation images, one per
/// model, uploaded one after another to the real API process (CSV with class indices). An upload must not slow down as
/// the zoo grows: the uploads around the 10th are compared with those around the last (medians of ten, one upload varies
/// by a third on this loaded machine). Also the database's bytes per upload, without and with scores.
/// RELABEL_BENCH_UPLOADS sets the count (default 1,000).
/// </summary>
public sealed class UploadsAtScaleBenchmark : IBenchmark
{
    public string Name => "uploads-at-scale";

    private const string Dataset = "ilsvrc2012-val";

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        var count = int.TryParse(Environment.GetEnvironmentVariable("RELABEL_BENCH_UPLOADS"), out var n) ? n : 1000;
        var (classes, truth, files) = await context.RegisterIlsvrcValidationAsync(Dataset);
        var index = classes.Select((wnid, i) => (wnid, i)).ToDictionary(c => c.wnid, c => (short)c.i);
        var random = new Random(1000);
        // Four classes each image's models confuse it with: as in a real zoo, models agree on most top-1s, so the review
        // items stop growing; the other four labels are random.
        var confusable = truth.Select(_ => Enumerable.Range(0, 4).Select(_ => (short)random.Next(1000)).ToArray()).ToArray();

        string Body(int model, bool scores)
        {
            var accuracy = 0.55 + 0.35 * model / count;
            var csv = new StringBuilder(3_000_000);
            csv.Append("image,label1,label2,label3,label4,label5");
            if (scores) csv.Append(",score1,score2,score3,score4,score5");
            csv.Append('\n');
            Span<short> labels = stackalloc short[5];
            for (var i = 0; i < files.Length; i++)
            {
                labels[0] = random.NextDouble() < accuracy ? index[truth[i]] : confusable[i][random.Next(4)];
                for (var j = 1; j < 5; j++)
                {
                    short next;
                    do next = (short)random.Next(1000); while (labels[..j].Contains(next));
                    labels[j] = next;
                }
                csv.Append(files[i]);
                foreach (var label in labels) csv.Append(',').Append(label);
                if (scores) for (var j = 0; j < 5; j++) csv.Append(',').Append((0.9 / (j + 1)).ToString("R", CultureInfo.InvariantCulture));
                csv.Append('\n');
            }
            return csv.ToString();
        }

        async Task<double> UploadAsync(string model, string body)
        {
            (await admin.PostAsJsonAsync("/api/models", new { slug = model, displayName = model, kind = "model" }, ct)).EnsureSuccessStatusCode();
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/csv");
            var watch = Stopwatch.StartNew();
            var response = await admin.PutAsync($"/api/models/{model}/predictions/{Dataset}?labels=index", content, ct);
            var seconds = watch.Elapsed.TotalSeconds;
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"{model}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            return seconds;
        }

        await using var connection = await context.OpenConnectionAsync();
        async Task<long> BytesAsync()
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint from pg_class c where c.relname in ('prediction_blocks', 'predictions') and c.relkind = 'r'",
                connection);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        }

        // Two warm-up uploads (compiling the API's code paths), then the timed series.
        for (var w = 0; w < 2; w++) await UploadAsync($"warm-up-{w}", Body(0, false));
        var before = await BytesAsync();
        var seconds = new List<double>(count);
        var next = Task.Run(() => Body(0, false), ct);
        var total = Stopwatch.StartNew();
        for (var m = 0; m < count; m++)
        {
            // Within the runner's ten minutes: a machine too loaded for the whole series reports how far it came.
            if (total.Elapsed > TimeSpan.FromMinutes(8))
            {
                Console.WriteLine($"  stopped after {m} uploads (8 minutes)");
                count = m;
                break;
            }
            var body = await next;
            var following = m + 1;
            next = Task.Run(() => Body(following, false), ct);
            seconds.Add(await UploadAsync($"zoo-{m:D4}", body));
            if ((m + 1) % 100 == 0)
                Console.WriteLine($"  {m + 1} uploads in {total.Elapsed.TotalSeconds:F0} s; the last ten: median {Median(seconds.TakeLast(10)):F3} s");
        }
        await next;
        var bytes = await BytesAsync() - before;
        BenchContext.Report("uploads", count, "F0");
        var beforeScores = await BytesAsync();
        await UploadAsync("zoo-scores", Body(count, true));
        var scoresBytes = await BytesAsync() - beforeScores;

        var early = Median(seconds.Skip(5).Take(10));
        var late = Median(seconds.TakeLast(10));
        BenchContext.Report("upload_seconds_at_10_models", early);
        BenchContext.Report($"upload_seconds_at_{count}_models", late);
        BenchContext.Report($"upload_seconds_at_{count}_models_ratio", late / early, "F2");
        BenchContext.Report("predictions_bytes_per_upload", (double)bytes / count, "F0");
        BenchContext.Report("predictions_bytes_per_upload_with_scores", scoresBytes, "F0");
        BenchContext.Report("uploads_total_seconds", total.Elapsed.TotalSeconds, "F0");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
