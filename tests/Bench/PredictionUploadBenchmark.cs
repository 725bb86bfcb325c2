using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Relabel.Bench;

/// <summary>
/// A 50,000-image top-5 upload (JSON, wnids, about 6 MB) through HTTP, against psql's \copy of the same rows into a
/// table defined as predictions was before its references were checked per statement (with per-row foreign keys), on the
/// same database, in the same run.
/// </summary>
public sealed class PredictionUploadBenchmark : IBenchmark
{
    public string Name => "predictions-upload";

    private const string Dataset = "ilsvrc2012-val";
    private const int Repetitions = 5;

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var admin = context.Admin;
        var (classes, truth, files) = await context.RegisterIlsvrcValidationAsync(Dataset);

        // The rows: a 76%-accurate top-1, then four other distinct classes; the same for both loaders.
        var random = new Random(50_000);
        var index = classes.Select((wnid, i) => (wnid, i)).ToDictionary(c => c.wnid, c => (short)c.i);
        var rows = new short[files.Length][];
        for (var i = 0; i < files.Length; i++)
        {
            var labels = new List<short>(5) { random.NextDouble() < 0.76 ? index[truth[i]] : (short)random.Next(1000) };
            while (labels.Count < 5)
            {
                var next = (short)random.Next(1000);
                if (!labels.Contains(next)) labels.Add(next);
            }
            rows[i] = [.. labels];
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(new
        {
            predictions = rows.Select((labels, i) => new { image = files[i], labels = labels.Select(l => classes[l]) }),
        });
        BenchContext.Report("upload_50k_top5_json_mb", json.Length / 1e6, "F1");

        // Warm up the API's code paths on a separate dataset of the same 50,000 images, twice, so that the timed uploads
        // meet code that a running server has already compiled (the runtime optimises hot methods after some use) and a
        // database whose caches hold the images; then let the warm-ups' follow-ups finish. (Until this session the
        // warm-up was two uploads of 5,000 rows: the first timed uploads still paid for compiling, 0.4-0.7 s against
        // 0.2-0.25 s for the later ones of the same run.)
        const int WarmUpImages = 50_000;
        await Ensure(admin.PostAsJsonAsync("/api/datasets", new { slug = "warm-up", name = "Warm-up", labelSpaceOf = Dataset }, ct));
        await Ensure(admin.PostAsync("/api/datasets/warm-up/images/manifest",
            new StringContent(string.Join("\n", files.Take(WarmUpImages).Select((f, i) => $"{f},{truth[i]}")), Encoding.UTF8, "text/csv"), ct));
        foreach (var model in new[] { "warm-up", "warm-up-2" })
        {
            await Ensure(admin.PostAsJsonAsync("/api/models", new { slug = model, displayName = model, kind = "model" }, ct));
            var warmUp = JsonSerializer.SerializeToUtf8Bytes(new
            {
                predictions = rows.Take(WarmUpImages).Select((labels, i) => new { image = files[i], labels = labels.Select(l => classes[l]) }),
            });
            await Ensure(admin.PutAsync($"/api/models/{model}/predictions/warm-up", Json(warmUp), ct));
        }
        await using (var connection = await context.OpenConnectionAsync())
        await using (var pending = new NpgsqlCommand("select count(*) from prediction_followups", connection))
            for (var i = 0; i < 600 && (long)(await pending.ExecuteScalarAsync(ct))! > 0; i++) await Task.Delay(100, ct);
        for (var r = 1; r <= Repetitions; r++)
            await Ensure(admin.PostAsJsonAsync("/api/models", new { slug = $"bench-model-{r}", displayName = $"Bench model {r}", kind = "model" }, ct));

        // psql \copy (text format) of the same rows under a fresh upload id each time, into a table defined as predictions
        // was before migration 0016 (primary key and the two foreign keys, checked per row): the reference of every
        // earlier upload_vs_copy_ratio. A plain table with only the primary key is timed beside it, for information.
        await using (var connection = await context.OpenConnectionAsync())
        await using (var create = new NpgsqlCommand(
                         """
                         create table copy_reference (
                             upload_id bigint not null references prediction_uploads (id) on delete cascade,
                             image_id  bigint not null references images (id) on delete cascade,
                             labels    smallint[] not null check (cardinality(labels) between 1 and 5),
                             scores    real[] check (scores is null or cardinality(scores) = cardinality(labels)),
                             primary key (upload_id, image_id));
                         create table copy_reference_plain (
                             upload_id bigint not null, image_id bigint not null, labels smallint[] not null, scores real[],
                             primary key (upload_id, image_id));
                         """, connection))
            await create.ExecuteNonQueryAsync(ct);
        var copyFile = Path.Combine(Path.GetTempPath(), $"relabel-bench-{Environment.ProcessId}.tsv");
        try
        {
            Dictionary<string, long> imageIds;
            await using (var connection = await context.OpenConnectionAsync())
            {
                imageIds = new Dictionary<string, long>();
                await using var command = new NpgsqlCommand(
                    "select i.file_name, i.id from images i join datasets d on d.id = i.dataset_id where d.slug = @Dataset", connection);
                command.Parameters.AddWithValue("Dataset", Dataset);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) imageIds[reader.GetString(0)] = reader.GetInt64(1);
            }

            // Both loaders take turns, five times each; the medians are compared (one run of either varies by a
            // third on this machine). Each upload is a different model's first, as each \copy is a new upload id.
            var uploads = new List<double>();
            var copies = new List<double>();
            var plainCopies = new List<double>();
            double peakRss = 0;
            JsonElement result = default;
            for (var r = 1; r <= Repetitions; r++)
            {
                long uploadId;
                await using (var connection = await context.OpenConnectionAsync())
                {
                    await using var insert = new NpgsqlCommand(
                        """
                        insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
                        select m.id, d.id, m.owner_id, 'csv', @rows, 5, false, repeat('0', 64), 'applied', 0
                        from models m, datasets d where m.slug = 'warm-up' and d.slug = @Dataset
                        returning id
                        """, connection);
                    insert.Parameters.AddWithValue("rows", rows.Length);
                    insert.Parameters.AddWithValue("Dataset", Dataset);
                    uploadId = (long)(await insert.ExecuteScalarAsync(ct))!;
                }
                await using (var writer = new StreamWriter(copyFile))
                    for (var i = 0; i < rows.Length; i++)
                        await writer.WriteAsync($"{uploadId}\t{imageIds[files[i]]}\t{{{string.Join(',', rows[i])}}}\t\\N\n");
                copies.Add(await context.RunPsqlAsync($"\\copy copy_reference(upload_id,image_id,labels,scores) from '{copyFile}'"));
                plainCopies.Add(await context.RunPsqlAsync($"\\copy copy_reference_plain(upload_id,image_id,labels,scores) from '{copyFile}'"));

                var watch = Stopwatch.StartNew();
                var (response, rss) = await context.WatchMemoryAsync(() => admin.PutAsync(
                    $"/api/models/bench-model-{r}/predictions/{Dataset}", Json(json), ct));
                uploads.Add(watch.Elapsed.TotalSeconds);
                peakRss = Math.Max(peakRss, rss);
                await Ensure(Task.FromResult(response));
                result = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                if (result.GetProperty("images").GetInt32() != 50_000) throw new InvalidOperationException(result.ToString());
            }
            var uploadSeconds = Median(uploads);
            var copySeconds = Median(copies);
            Console.WriteLine($"  uploads: {string.Join(" ", uploads.Select(u => u.ToString("F3")))}; copies: {string.Join(" ", copies.Select(c => c.ToString("F3")))}; " +
                              $"plain copies: {string.Join(" ", plainCopies.Select(c => c.ToString("F3")))}");

            BenchContext.Report("upload_50k_top5_seconds", uploadSeconds);
            BenchContext.Report("psql_copy_50k_top5_seconds", copySeconds);
            BenchContext.Report("upload_vs_copy_ratio", uploadSeconds / copySeconds, "F2");
            BenchContext.Report("psql_copy_plain_50k_top5_seconds", Median(plainCopies));
            BenchContext.Report("upload_vs_plain_copy_ratio", uploadSeconds / Median(plainCopies), "F2");
            BenchContext.Report("upload_peak_rss_mb", peakRss, "F0");
            BenchContext.Report("upload_50k_top5_new_for_review", result.GetProperty("newForReview").GetInt64(), "F0");

            // Replacing the set with other content (the old rows are deleted in the same transaction), then a no-op.
            rows[0] = [rows[0][1], rows[0][0], rows[0][2], rows[0][3], rows[0][4]];
            var changed = JsonSerializer.SerializeToUtf8Bytes(new
            {
                predictions = rows.Select((labels, i) => new { image = files[i], labels = labels.Select(l => classes[l]) }),
            });
            var replacing = Stopwatch.StartNew();
            await Ensure(admin.PutAsync($"/api/models/bench-model-1/predictions/{Dataset}", Json(changed), ct));
            BenchContext.Report("replace_50k_top5_seconds", replacing.Elapsed.TotalSeconds);
            replacing.Restart();
            await Ensure(admin.PutAsync($"/api/models/bench-model-1/predictions/{Dataset}", Json(changed), ct));
            BenchContext.Report("unchanged_50k_top5_seconds", replacing.Elapsed.TotalSeconds);
            BenchContext.Report("api_peak_rss_mb", context.Memory().PeakMb, "F0");
        }
        finally
        {
            File.Delete(copyFile);
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private static async Task Ensure(Task<HttpResponseMessage> request)
    {
        var response = await request;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: " +
                await response.Content.ReadAsStringAsync());
    }
}
