using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Demo;

/// <summary>
/// "make demo-zoo": the public timm zoo (1,556 models and image sizes) on an ImageNet validation dataset of 50,000
/// metadata-only images (the real labels and ReaL sets of ../shared/data) and an ImageNetV2-shaped one of 10,000, with
/// synthetic predictions calibrated to each model's published top-1, ReaL and ImageNetV2 accuracy (ZooCalibration),
/// and reviews that accept exactly the ReaL labels (ImageNetV2: the original label), so that the multi-label board is
/// populated. Everything goes through the public HTTP API of this process, as a lab's script would.
/// </summary>
public static class ZooCommand
{
    public const string Dataset = "zoo-imagenet";
    public const string Shifted = "zoo-imagenetv2";

    /// <summary>
    /// Loads the zoo through <paramref name="client"/> (an admin). <paramref name="limit"/> takes the first models only
    /// (by published top-1; tests); <paramref name="progress"/> is told the number of models done.
    /// </summary>
    public static async Task LoadAsync(HttpClient client, string sharedData, int? limit, Action<string, int, int> progress, CancellationToken ct = default)
    {
        var classes = File.ReadLines(Path.Combine(sharedData, "ilsvrc2012", "synsets.tsv")).Skip(1)
            .Select(line => line.Split('\t')).OrderBy(f => int.Parse(f[0])).Select(f => f[1]).ToArray();
        var index = classes.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => (short)p.i);
        var truth = File.ReadAllLines(Path.Combine(sharedData, "ilsvrc2012", "val_labels.txt")).Select(w => index[w.Trim()]).ToArray();
        var realJson = await File.ReadAllBytesAsync(Path.Combine(sharedData, "real", "real.json"), ct);
        var real = JsonSerializer.Deserialize<short[][]>(realJson)!;
        var models = ZooCalibration.ReadModels(Path.Combine(sharedData, "leaderboards")).Take(limit ?? int.MaxValue).ToList();
        var zoo = new ZooCalibration(truth, real, classes.Length);
        var files = truth.Select((_, i) => $"ILSVRC2012_val_{i + 1:D8}.JPEG").ToArray();
        var v2Files = Enumerable.Range(0, classes.Length * ZooCalibration.ImagesPerClassV2)
            .Select(i => $"imagenetv2_{ZooCalibration.V2Original(i):D3}_{i % ZooCalibration.ImagesPerClassV2}.jpeg").ToArray();

        progress("datasets", 0, 1);
        await EnsureAsync(await client.PostAsJsonAsync("/api/datasets", new
        {
            slug = Dataset, name = "ImageNet validation: timm zoo (synthetic predictions)", classes,
            description = "The 50,000 ILSVRC-2012 validation labels and ReaL sets (no images). The predictions are synthetic: " +
                          "calibrated to each timm model's published top-1, ReaL and ImageNetV2 accuracy, not made by the models.",
        }, ct), ct);
        await EnsureAsync(await client.PostAsJsonAsync("/api/datasets", new
        {
            slug = Shifted, name = "ImageNetV2-shaped: timm zoo (synthetic predictions)", labelSpaceOf = Dataset, shiftOf = Dataset,
            description = "10,000 generated image records, ten per class (no images), paired with zoo-imagenet. The predictions are synthetic.",
        }, ct), ct);
        await EnsureAsync(await client.PostAsync($"/api/datasets/{Dataset}/images/manifest",
            new StringContent(string.Join("\n", files.Select((f, i) => $"{f},{truth[i]}")), Encoding.UTF8, "text/csv"), ct), ct);
        await EnsureAsync(await client.PostAsync($"/api/datasets/{Shifted}/images/manifest",
            new StringContent(string.Join("\n", v2Files.Select((f, i) => $"{f},{ZooCalibration.V2Original(i)}")), Encoding.UTF8, "text/csv"), ct), ct);
        await EnsureAsync(await client.PutAsync($"/api/datasets/{Dataset}/reference-labels",
            new ByteArrayContent(realJson) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } }, ct), ct);
        progress("datasets", 1, 1);

        // Every model's predictions first: the reviews cover every label any model predicts.
        progress("predictions", 0, models.Count);
        var done = 0;
        var predictions = new (short[] Val, short[] V2)[models.Count];
        Parallel.For(0, models.Count, new ParallelOptions { CancellationToken = ct }, k =>
        {
            predictions[k] = (zoo.ImageNet(models[k], k), zoo.ImageNetV2(models[k], k));
            progress("predictions", Interlocked.Increment(ref done), models.Count);
        });

        progress("reviews", 0, 2);
        var candidates = truth.Select((o, i) => predictions.Select(p => p.Val[i]).Append(o).Distinct().ToArray()).ToArray();
        var reviewed = Enumerable.Range(0, files.Length).Where(i => real[i].Length > 0).ToDictionary(i => files[i], i => new
        {
            correct = candidates[i].Where(c => real[i].Contains(c)).Select(c => classes[c]).ToArray(),
            wrong = candidates[i].Where(c => !real[i].Contains(c)).Select(c => classes[c]).ToArray(),
        });
        await ImportAsync(client, Dataset, new { initial_annots = reviewed }, ct);
        progress("reviews", 1, 2);
        var reviewedV2 = Enumerable.Range(0, v2Files.Length).ToDictionary(i => v2Files[i], i =>
        {
            var original = (short)ZooCalibration.V2Original(i);
            var predicted = predictions.Select(p => p.V2[i]).Append(original).Distinct().ToArray();
            return new { correct = new[] { classes[original] }, wrong = predicted.Where(c => c != original).Select(c => classes[c]).ToArray() };
        });
        await ImportAsync(client, Shifted, new { initial_annots = reviewedV2 }, ct);
        progress("reviews", 2, 2);

        // A few models at a time: one upload's parsing overlaps another's database work.
        var uploaded = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, models.Count), new ParallelOptions { MaxDegreeOfParallelism = 3, CancellationToken = ct }, async (k, ct) =>
        {
            var model = models[k];
            var extra = model.ExtraTrainingData;
            var created = await client.PostAsJsonAsync("/api/models", new
            {
                slug = model.Slug, displayName = $"{model.Name} @{model.ImageSize}", kind = extra is null ? "model" : "model-extra-data",
                description = $"Synthetic predictions calibrated to timm's published results for {model.Name} at {model.ImageSize} px " +
                              $"(top-1 {model.Top1:F3} %, ReaL {model.Real:F3} %, ImageNetV2 {model.V2Top1:F3} %); not made by the model.",
                parameterCount = model.ParameterMillions is { } p ? (long?)Math.Round(p * 1e6) : null,
                trainingData = extra ?? "imagenet-1k",
                codeUrl = "https://github.com/huggingface/pytorch-image-models",
                tags = new[] { Models.ModelTags.Synthetic, $"img{model.ImageSize}" }.Concat(extra is null ? [] : new[] { extra }).ToArray(),
            }, ct);
            if (created.StatusCode != System.Net.HttpStatusCode.Conflict) await EnsureAsync(created, ct);
            await UploadAsync(client, model.Slug, Dataset, files, predictions[k].Val, ct);
            await UploadAsync(client, model.Slug, Shifted, v2Files, predictions[k].V2, ct);
            progress("uploads", Interlocked.Increment(ref uploaded), models.Count);
        });
    }

    /// <summary>A gzipped CSV of class indices, as a script would send it.</summary>
    private static async Task UploadAsync(HttpClient client, string model, string dataset, string[] files, short[] top1, CancellationToken ct)
    {
        using var body = new MemoryStream();
        await using (var zip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true))
        await using (var writer = new StreamWriter(zip, new UTF8Encoding(false)))
        {
            await writer.WriteAsync("image,label1\n");
            for (var i = 0; i < files.Length; i++) await writer.WriteAsync($"{files[i]},{top1[i]}\n");
        }
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        content.Headers.ContentEncoding.Add("gzip");
        await EnsureAsync(await client.PutAsync($"/api/models/{model}/predictions/{dataset}?labels=index", content, ct), ct);
    }

    private static async Task ImportAsync(HttpClient client, string dataset, object release, CancellationToken ct)
    {
        var response = await client.PostAsync($"/api/datasets/{dataset}/import/multilabel?source=zoo-real",
            new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(release)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } }, ct);
        if (response.StatusCode == System.Net.HttpStatusCode.OK) return; // imported before: unchanged
        await EnsureAsync(response, ct);
        var location = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("location").GetString()!;
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>(location, ct);
            var status = job.GetProperty("status").GetString();
            if (status == "succeeded") return;
            if (status == "failed") throw new InvalidOperationException($"The review import of {dataset} failed: {job}");
            await Task.Delay(500, ct);
        }
    }

    /// <summary>Success, or a conflict with what exists already (a second run).</summary>
    private static async Task EnsureAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode || response.StatusCode == System.Net.HttpStatusCode.Conflict) return;
        throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: " +
                                            $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    /// <summary>
    /// The command: this process serves the API on a loopback port of its own and loads the zoo through it with a token
    /// made for the run (an admin's, revoked at the end).
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RelabelOptions>>().Value;
        var i = Array.IndexOf(args, "--data");
        var data = i >= 0 && i + 1 < args.Length ? args[i + 1] : options.ResolvePath("../shared/data");
        var m = Array.IndexOf(args, "--models");
        int? limit = m >= 0 && m + 1 < args.Length ? int.Parse(args[m + 1]) : null;
        if (!Directory.Exists(Path.Combine(data, "leaderboards")))
        {
            Console.Error.WriteLine($"The reference data is not at {data} (give --data DIR: the folder with ilsvrc2012/, real/ and leaderboards/).");
            return 2;
        }
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        var token = Auth.NewToken();
        await using (var connection = await db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                insert into api_tokens (user_id, name, token_hash, expires_at)
                select id, 'demo-zoo', @hash, now() + interval '1 day' from users where name = 'admin'
                """,
                new { hash = Auth.HashToken(token) });
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var watch = Stopwatch.StartNew();
        var shown = "";
        void Progress(string phase, int done, int total)
        {
            var width = 40;
            var filled = total == 0 ? width : done * width / total;
            var line = $"\r  {phase,-12} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{total}  {watch.Elapsed:mm\\:ss}";
            lock (watch)
            {
                if (line == shown) return;
                shown = line;
                Console.Error.Write(line);
                if (done == total) Console.Error.WriteLine();
            }
        }
        try
        {
            await LoadAsync(client, data, limit, Progress);
            Console.Error.WriteLine($"The timm zoo is loaded ({watch.Elapsed.TotalMinutes:F1} min): datasets {Dataset} and {Shifted}; its predictions are synthetic.");
            return 0;
        }
        finally
        {
            await using var connection = await db.OpenConnectionAsync();
            await connection.ExecuteAsync("update api_tokens set revoked_at = now() where token_hash = @hash", new { hash = Auth.HashToken(token) });
            await app.StopAsync();
        }
    }
}
