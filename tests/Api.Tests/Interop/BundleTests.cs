using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Demo;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Interop;

/// <summary>
/// The source server: the generated demo (two paired datasets, eight models, a reviewer's verdicts and flags) plus,
/// through the API, what the demo lacks: custom subsets, a second human and a model with scores, reference labels, an
/// imported multi-label release, crowd-rater votes, another reviewer's timed verdicts and flags, an adjudication and a
/// guide note.
/// </summary>
public sealed class BundleSourceFixture : ApiFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Relabel:Demo"] = "true" };

    private byte[]? _bundle;

    /// <summary>The bundle of demo-val (and its shift partner demo-v2), exported once the extras are in.</summary>
    public async Task<byte[]> BundleAsync()
    {
        if (_bundle is not null) return _bundle;
        await BundleTests.AddExtrasAsync(App);
        using var admin = App.Admin();
        var response = await admin.GetAsync("/api/datasets/demo-val/export/bundle");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/gzip", response.Content.Headers.ContentType?.MediaType);
        return _bundle = await response.Content.ReadAsByteArrayAsync();
    }
}

/// <summary>
/// The bundle tests start several servers and write thousands of rows each: they run alone, after the classes that run
/// in parallel, so that the suite's CPU-bound tests with time limits keep their cores.
/// </summary>
[CollectionDefinition(nameof(BundleTests), DisableParallelization = true)]
public sealed class BundleCollection;

[Collection(nameof(BundleTests))]
public sealed class BundleTests(BundleSourceFixture source, ITestOutputHelper output) : IClassFixture<BundleSourceFixture>
{
    private static readonly string[] Boards =
    [
        "dataset=demo-val",
        "dataset=demo-val&metric=real",
        "dataset=demo-val&metric=top5&subset=dogs",
        "dataset=demo-val&subset=dogs&average=per-class&unclear=correct",
        "dataset=demo-val&subset=birds-and-fish",
        "dataset=demo-val&subset=no-dogs&metric=top1",
        "dataset=demo-val&subset=no-fish&metric=top1",
        "dataset=demo-val&version=1",
        "dataset=demo-val&version=3",
        "dataset=demo-v2",
        "dataset=demo-v2&imageSet=imagenet-m",
    ];

    internal static async Task AddExtrasAsync(RelabelApp app)
    {
        using var admin = app.Admin();
        async Task Ok(HttpResponseMessage response)
        {
            Assert.True(response.IsSuccessStatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        var val = DemoSeeder.Images(DemoSeeder.Validation);
        var v2 = DemoSeeder.Images(DemoSeeder.Shifted);
        var classes = DemoSeeder.Classes;

        await Ok(await admin.PostAsJsonAsync("/api/datasets/demo-val/subsets",
            new { name = "birds-and-fish", description = "Some organisms", wnids = DemoSeeder.OtherOrganisms.Take(12).ToArray() }));
        await Ok(await admin.PostAsJsonAsync("/api/datasets/demo-val/subsets", new { name = "no-fish", excludeRoot = "n02512053" }));

        // A second human (so the human majority vote exists) and a model with scores on part of the images.
        await Ok(await admin.PostAsJsonAsync("/api/models", new { slug = "bundle-human-b", displayName = "Human B <b>", kind = "human" }));
        var human = val.Take(400).Select((image, i) => new { image = image.FileName, labels = new[] { i % 9 == 0 ? classes[(i * 7) % classes.Length] : image.Wnid } });
        await Ok(await admin.PutAsJsonAsync("/api/models/bundle-human-b/predictions/demo-val?partial=true", new { predictions = human }));
        await Ok(await admin.PostAsJsonAsync("/api/models", new
        {
            slug = "bundle-scored", displayName = "Scored model", kind = "model", description = "Ünïcode and \"quotes\"",
            paperUrl = "https://example.org/paper", parameterCount = 1234, trainingData = "imagenet-1k", tags = new[] { "cnn", "scored" },
        }));
        var scored = val.Take(900).Select((image, i) => new
        {
            image = image.FileName,
            labels = new[] { i % 4 == 0 ? classes[(i + 3) % classes.Length] : image.Wnid, image.Wnid == classes[0] ? classes[1] : classes[0] },
            scores = new[] { 0.7f + i % 10 / 100f, 0.1f / (1 + i % 7) },
        });
        await Ok(await admin.PutAsJsonAsync("/api/models/bundle-scored/predictions/demo-val?partial=true", new { predictions = scored }));

        // Reference labels: the class drawn and the second object, in sorted file-name order; every 50th image excluded.
        var real = val.OrderBy(i => i.FileName, StringComparer.Ordinal).Select((image, i) => i % 50 == 0 ? Array.Empty<int>()
            : image.SecondWnid is null ? [Array.IndexOf(classes, image.Wnid)] : new[] { Array.IndexOf(classes, image.Wnid), Array.IndexOf(classes, image.SecondWnid) });
        await Ok(await admin.PutAsync("/api/datasets/demo-val/reference-labels", JsonContent.Create(real)));

        // An imported multi-label release on demo-v2 (source events, problematic flags, the imagenet-m set).
        var annots = new JsonObject();
        foreach (var image in v2.Take(120))
            annots[image.FileName] = new JsonObject
            {
                ["correct"] = new JsonArray(image.Wnid),
                ["wrong"] = new JsonArray(image.Wnid == classes[5] ? classes[6] : classes[5]),
                ["unclear"] = new JsonArray(),
            };
        var release = new JsonObject
        {
            ["initial_annots"] = annots,
            ["problematic_images"] = new JsonObject { [v2[7].FileName] = new JsonObject { ["reason"] = "drawing-or-render", ["reviewer"] = "vs" } },
            ["imagenet_m"] = new JsonArray(v2[1].FileName, v2[2].FileName, v2[3].FileName, v2[4].FileName),
        };
        await WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/demo-v2/import/multilabel?source=bundle-test",
            new StringContent(release.ToJsonString(), Encoding.UTF8, "application/json")));

        // Crowd-rater votes on demo-val: two raters who disagree now and then.
        var votes = new StringBuilder("file_name,wnid,rater,answer\n");
        foreach (var (image, i) in val.Skip(5).Take(60).Select((image, i) => (image, i)))
        {
            votes.Append($"{image.FileName},{image.Wnid},r1,yes\n");
            votes.Append($"{image.FileName},{image.Wnid},r2,{(i % 5 == 0 ? "maybe" : "yes")}\n");
        }
        await WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/demo-val/import/rater-votes",
            new StringContent(votes.ToString(), Encoding.UTF8, "text/csv")));

        // Another reviewer: timed verdicts with notes, and flags; then an admin's adjudication.
        await using var connection = await app.Db.OpenConnectionAsync();
        var imageIds = (await connection.QueryAsync<long>(
            "select i.id from images i join datasets d on d.id = i.dataset_id where d.slug = 'demo-val' order by i.id limit 12")).ToArray();
        using var reviewer = await app.UserAsync("bundle-reviewer", "reviewer");
        foreach (var (imageId, n) in imageIds.Select((id, n) => (id, n)))
        {
            var image = await (await reviewer.GetAsync($"/api/review/images/{imageId}")).JsonAsync();
            var verdicts = image.GetProperty("labels").EnumerateArray().Select((l, j) => new
            {
                itemId = l.GetProperty("itemId").GetInt64(),
                version = l.GetProperty("version").GetInt32(),
                verdict = (n + j) % 3 == 0 ? "wrong" : j == 0 ? "correct" : "unclear",
                note = n % 2 == 0 ? $"note {n}/{j} «quoted»" : null,
            }).ToArray();
            object? flag = n % 4 == 1
                ? new { problematic = true, reason = n % 8 == 1 ? "other" : "excessively-edited", note = "cut off at the edge", version = image.GetProperty("flag").GetProperty("version").GetInt32() }
                : null;
            await Ok(await reviewer.PostAsJsonAsync($"/api/review/images/{imageId}", new { verdicts, flag, secondsSpent = 7.25 + n }));
        }
        var reviewed = await (await reviewer.GetAsync($"/api/review/images/{imageIds[3]}")).JsonAsync();
        var label = reviewed.GetProperty("labels")[0];
        await Ok(await admin.PostAsJsonAsync($"/api/review/items/{label.GetProperty("itemId").GetInt64()}/adjudicate",
            new { verdict = "unclear", version = label.GetProperty("version").GetInt32(), note = "Admin: both apply" }));
        // Withdrawn: the flag of image 5 is cleared again.
        var flagged = await (await reviewer.GetAsync($"/api/review/images/{imageIds[5]}")).JsonAsync();
        await Ok(await reviewer.PostAsJsonAsync($"/api/review/images/{imageIds[5]}", new
        {
            verdicts = Array.Empty<object>(),
            flag = new { problematic = false, version = flagged.GetProperty("flag").GetProperty("version").GetInt32() },
        }));

        await Ok(await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = DemoSeeder.Dogs[0], body = "Look at the *ears*." }));
        await Ok(await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = DemoSeeder.Dogs[1], otherWnid = DemoSeeder.Dogs[2], body = "Size tells them apart." }));
    }

    internal static async Task<JsonElement> WaitForJobAsync(HttpClient client, HttpResponseMessage accepted)
    {
        var text = await accepted.Content.ReadAsStringAsync();
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, $"{(int)accepted.StatusCode}: {text}");
        var location = JsonDocument.Parse(text).RootElement.GetProperty("location").GetString()!;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var job = await (await client.GetAsync(location)).JsonAsync();
            var status = job.GetProperty("status").GetString();
            if (status == "succeeded") return job;
            Assert.True(status != "failed", job.ToString());
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(3), "job did not finish: " + job);
            await Task.Delay(100);
        }
    }

    /// <summary>A fresh server on its own database, disposed with the database.</summary>
    private sealed class Target : IAsyncDisposable
    {
        public RelabelApp App { get; private init; } = null!;

        public static async Task<Target> CreateAsync()
        {
            var target = new Target { App = new RelabelApp(await TestDatabase.CreateAsync()) };
            _ = target.App.Services;
            return target;
        }

        public async ValueTask DisposeAsync()
        {
            var database = App.Database;
            await App.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(database);
        }
    }

    private static ByteArrayContent Gzip(byte[] bundle)
    {
        var content = new ByteArrayContent(bundle);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        return content;
    }

    private static async Task<string> BoardAsync(HttpClient client, string query)
    {
        // With its statistics (rank intervals), which are computed after the first answer.
        var response = await client.GetAsync("/api/leaderboard?wait=true&" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {text}");
        var board = JsonNode.Parse(text)!.AsObject();
        board.Remove("computeMs");
        board["statistics"]!.AsObject().Remove("computeMs");
        return board.ToJsonString();
    }

    private sealed record Counts(long Datasets, long Images, long Items, long Verdicts, long Flags, long Versions, long Uploads, long Models, long Users, long References, long SetMembers);

    private static async Task<Counts> CountsAsync(RelabelApp app)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.QuerySingleAsync<Counts>(
            """
            select (select count(*) from datasets) as datasets, (select count(*) from images) as images,
                   (select count(*) from review_items) as items, (select count(*) from verdict_events) as verdicts,
                   (select count(*) from image_flag_events) as flags, (select count(*) from label_versions) as versions,
                   (select count(*) from prediction_uploads) as uploads, (select count(*) from models) as models,
                   (select count(*) from users) as users, (select count(*) from dataset_reference_labels) as "references",
                   (select count(*) from image_set_members) as set_members
            """);
    }

    /// <summary>The files of a bundle by path.</summary>
    internal static SortedDictionary<string, byte[]> Unpack(byte[] bundle)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        using var tar = new TarReader(new GZipStream(new MemoryStream(bundle), CompressionMode.Decompress));
        while (tar.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            files[entry.Name] = data.ToArray();
        }
        return files;
    }

    /// <summary>A bundle of these files; with <paramref name="fixManifest"/> the manifest gets their new checksums.</summary>
    internal static byte[] Pack(SortedDictionary<string, byte[]> files, bool fixManifest)
    {
        if (fixManifest)
        {
            var manifest = JsonNode.Parse(files["manifest.json"])!;
            foreach (var entry in manifest["files"]!.AsArray())
            {
                var path = entry!["path"]!.GetValue<string>();
                if (!files.TryGetValue(path, out var bytes)) continue;
                entry["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes));
                entry["bytes"] = bytes.Length;
                entry["rows"] = bytes.Count(b => b == '\n');
            }
            files["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        }
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var (path, bytes) in files.OrderBy(f => f.Key == "manifest.json" ? 0 : 1))
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes) });
        return output.ToArray();
    }

    private static string[] Lines(byte[] file) => Encoding.UTF8.GetString(file).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task A_bundle_imported_into_an_empty_server_reproduces_every_leaderboard_and_importing_it_again_changes_nothing()
    {
        var bundle = await source.BundleAsync();
        var files = Unpack(bundle);
        output.WriteLine($"bundle: {bundle.Length:N0} bytes, {files.Count} files, {files.Values.Sum(f => f.Length):N0} bytes unpacked");
        var manifest = JsonNode.Parse(files["manifest.json"])!;
        Assert.Equal("relabel-bundle", manifest["format"]!.GetValue<string>());
        Assert.Equal(["demo-val", "demo-v2"], manifest["datasets"]!.AsArray().Select(d => d!.GetValue<string>()));
        Assert.Contains("datasets/demo-v2/predictions/demo-resnet50.ndjson", files.Keys);
        Assert.Contains("datasets/demo-val/reference-labels.ndjson", files.Keys);
        Assert.DoesNotContain("datasets/demo-v2/classes.ndjson", files.Keys);
        Assert.Contains(Lines(files["accounts.ndjson"]), l => l.Contains("\"bundle-reviewer\""));
        Assert.DoesNotContain(Lines(files["accounts.ndjson"]), l => l.Contains("password", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(Lines(files["datasets/demo-val/verdicts.ndjson"]), l => l.Contains("\"adjudication\":true") && l.Contains("Admin: both apply"));
        Assert.Contains(Lines(files["datasets/demo-val/verdicts.ndjson"]), l => l.Contains("\"secondsSpent\":") && l.Contains("«quoted»"));

        using var sourceClient = source.App.Anonymous();
        var expected = new Dictionary<string, string>();
        foreach (var query in Boards) expected[query] = await BoardAsync(sourceClient, query);
        var sourceCounts = await CountsAsync(source.App);

        await using var target = await Target.CreateAsync();
        using var admin = target.App.Admin();
        var watch = Stopwatch.StartNew();
        var job = await WaitForJobAsync(admin, await admin.PostAsync("/api/import/bundle", Gzip(bundle)));
        output.WriteLine($"import: {watch.Elapsed.TotalSeconds:F1} s, {job.GetProperty("result")}");
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.Equal("demo-val", job.GetProperty("dataset").GetString());
        Assert.All(job.GetProperty("result").GetProperty("datasets").EnumerateArray(), d =>
        {
            Assert.True(d.GetProperty("created").GetBoolean());
            Assert.Equal(0, d.GetProperty("statesDifferingFromBundle").GetInt32());
        });

        using var targetClient = target.App.Anonymous();
        foreach (var query in Boards) Assert.Equal(expected[query], await BoardAsync(targetClient, query));

        // The history is complete: same events, flags, label versions, reference labels and image sets.
        var imported = await CountsAsync(target.App);
        Assert.Equal(sourceCounts with { Uploads = imported.Uploads, Users = imported.Users }, imported);
        await using (var connection = await target.App.Db.OpenConnectionAsync())
        {
            // People named by events exist as accounts without credentials or roles.
            var reviewer = await connection.QuerySingleAsync<(bool NoPassword, int Roles)>(
                "select password_hash is null, cardinality(roles) from users where name = 'bundle-reviewer'");
            Assert.Equal((true, 0), reviewer);
            Assert.Equal(2, await connection.ExecuteScalarAsync<long>("select count(*) from guide_notes"));
            Assert.Equal("demo-val", await connection.ExecuteScalarAsync<string>(
                "select s.slug from datasets d join datasets s on s.id = d.shift_of where d.slug = 'demo-v2'"));
            Assert.True(await connection.ExecuteScalarAsync<bool>(
                "select (select label_space_id from datasets where slug = 'demo-val') = (select label_space_id from datasets where slug = 'demo-v2')"));
        }

        // The same bundle again: nothing to do.
        var again = await admin.PostAsync("/api/import/bundle", Gzip(bundle));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("unchanged", (await again.JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(imported, await CountsAsync(target.App));

        // Exported again from the target, the bundle holds the same lines (images lose the hash of pixels the target lacks).
        var response = await admin.GetAsync("/api/datasets/demo-val/export/bundle");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var roundTrip = await response.Content.ReadAsByteArrayAsync();
        var reexported = Unpack(roundTrip);
        Assert.Equal(files.Keys, reexported.Keys);
        foreach (var path in files.Keys.Where(p => p != "manifest.json"))
        {
            static IEnumerable<string> Normalised(string path, byte[] file) => Lines(file)
                .Select(l => path.EndsWith("/images.ndjson") ? JsonNode.Parse(l)!["file"]!.GetValue<string>() : l).Order(StringComparer.Ordinal);
            Assert.True(Normalised(path, files[path]).SequenceEqual(Normalised(path, reexported[path])), $"{path} differs after the round trip");
        }

        // That bundle has other bytes, so it is imported, and matches what is there: no event is added, in either direction.
        var second = await WaitForJobAsync(admin, await admin.PostAsync("/api/import/bundle", Gzip(roundTrip)));
        Assert.All(second.GetProperty("result").GetProperty("datasets").EnumerateArray(), d =>
        {
            Assert.False(d.GetProperty("created").GetBoolean());
            Assert.Equal(0, d.GetProperty("verdictsAdded").GetInt32());
            Assert.Equal(0, d.GetProperty("flagsAdded").GetInt32());
            Assert.Equal(0, d.GetProperty("predictionSetsReplaced").GetInt32());
        });
        Assert.Equal(imported, await CountsAsync(target.App));
        using (var sourceAdmin = source.App.Admin())
            await WaitForJobAsync(sourceAdmin, await sourceAdmin.PostAsync("/api/import/bundle", Gzip(roundTrip)));
        Assert.Equal(sourceCounts, await CountsAsync(source.App));
        foreach (var query in Boards) Assert.Equal(expected[query], await BoardAsync(sourceClient, query));
    }

    [Fact]
    public async Task A_tampered_or_incomplete_bundle_is_refused_naming_the_file_and_nothing_is_written()
    {
        var files = Unpack(await source.BundleAsync());
        var verdicts = "datasets/demo-val/verdicts.ndjson";
        files[verdicts] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files[verdicts]).Replace("\"verdict\":\"wrong\"", "\"verdict\":\"correct\""));
        files.Remove("datasets/demo-v2/flags.ndjson");
        files["extra.txt"] = "hello\n"u8.ToArray();

        await using var target = await Target.CreateAsync();
        using var admin = target.App.Admin();
        var problem = await (await admin.PostAsync("/api/import/bundle", Gzip(Pack(files, fixManifest: false)))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var errors = problem.GetProperty("errors").EnumerateArray()
            .Select(e => (File: e.GetProperty("file").GetString(), Field: e.GetProperty("field").GetString(), Message: e.GetProperty("message").GetString()!)).ToList();
        Assert.Contains(errors, e => e.File == verdicts && e.Field == "sha256" && e.Message.Contains("does not match the manifest"));
        Assert.Contains(errors, e => e.File == "datasets/demo-v2/flags.ndjson" && e.Message.Contains("missing from the archive"));
        Assert.Contains(errors, e => e.File == "extra.txt" && e.Message.Contains("not listed in the manifest"));
        Assert.Equal(0, (await CountsAsync(target.App)).Datasets);

        // Cut short, or not a bundle at all.
        var whole = await source.BundleAsync();
        await (await admin.PostAsync("/api/import/bundle", Gzip(whole[..100]))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsync("/api/import/bundle", Gzip(whole[..(whole.Length / 2)]))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsync("/api/import/bundle", Gzip("not a tarball"u8.ToArray()))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsync("/api/import/bundle", Gzip(Pack(new SortedDictionary<string, byte[]> { ["a.txt"] = "x"u8.ToArray() }, false))))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PostAsync("/api/import/bundle", new StringContent("{}", Encoding.UTF8, "application/json"))).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(0, (await CountsAsync(target.App)).Datasets);
    }

    [Fact]
    public async Task Bad_lines_are_refused_with_their_file_and_line_and_nothing_is_written()
    {
        var files = Unpack(await source.BundleAsync());
        string[] Edit(string path, Func<string[], string[]> change)
        {
            var lines = change(Lines(files[path]));
            files[path] = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
            return lines;
        }
        Edit("datasets/demo-val/verdicts.ndjson", lines => { lines[2] = "{\"image\": \"broken"; return lines; });
        Edit("datasets/demo-val/images.ndjson", lines => { lines[4] = lines[4].Replace("\"wnid\":\"n", "\"wnid\":\"n9"); return lines; });
        Edit("datasets/demo-v2/flags.ndjson", lines => { lines[0] = lines[0].Replace("\"reviewer\":\"demo-reviewer\"", "\"reviewer\":\"nobody\""); return lines; });
        Edit("datasets/demo-val/predictions/demo-alexnet.ndjson", lines => { lines[9] = lines[9].Replace("\"image\":\"demo-val_", "\"image\":\"missing_"); return lines; });

        await using var target = await Target.CreateAsync();
        using var admin = target.App.Admin();
        var problem = await (await admin.PostAsync("/api/import/bundle", Gzip(Pack(files, fixManifest: true)))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        output.WriteLine(problem.ToString());
        var errors = problem.GetProperty("errors").EnumerateArray()
            .Select(e => (File: e.GetProperty("file").GetString(), Line: e.GetProperty("line").GetInt64(), Field: e.GetProperty("field").GetString())).ToList();
        Assert.Contains(("datasets/demo-val/verdicts.ndjson", 3L, "image"), errors);
        Assert.Contains(("datasets/demo-val/images.ndjson", 5L, "wnid"), errors);
        Assert.Contains(("datasets/demo-v2/flags.ndjson", 1L, "reviewer"), errors);
        Assert.Contains(("datasets/demo-val/predictions/demo-alexnet.ndjson", 10L, "image"), errors);
        Assert.Equal(0, (await CountsAsync(target.App)).Datasets);

        // Consistent lines that do not fit the target: here the guide note names a class WordNet does not have.
        files = Unpack(await source.BundleAsync());
        Edit("guide-notes.ndjson", lines => { lines[0] = lines[0].Replace("\"wnid\":\"n02085620\"", "\"wnid\":\"n00000001\""); return lines; });
        problem = await (await admin.PostAsync("/api/import/bundle", Gzip(Pack(files, fixManifest: true)))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("guide-notes.ndjson", error.GetProperty("file").GetString());
        Assert.Contains("n00000001", error.GetProperty("message").GetString());
        Assert.Equal(0, (await CountsAsync(target.App)).Datasets);
    }

    [Fact]
    public async Task Damaged_bundles_get_a_4xx_problem_and_write_nothing_and_altered_ones_never_fail_later()
    {
        var bundle = await source.BundleAsync();
        var files = Unpack(bundle);
        var dataFiles = files.Keys.Where(k => k != "manifest.json" && files[k].Length > 0).ToArray();
        var random = new Random(20261128);
        // A few bytes flipped, or (digitsOnly) a few digits changed, which keeps the JSON well-formed more often.
        SortedDictionary<string, byte[]> Altered(out string path, bool digitsOnly = false)
        {
            var copy = new SortedDictionary<string, byte[]>(files, StringComparer.Ordinal);
            path = dataFiles[random.Next(dataFiles.Length)];
            var file = (byte[])copy[path].Clone();
            var digits = Enumerable.Range(0, file.Length).Where(i => file[i] is >= (byte)'0' and <= (byte)'9').ToArray();
            for (var n = random.Next(1, 4); n > 0; n--)
                if (!digitsOnly) file[random.Next(file.Length)] ^= (byte)random.Next(1, 256);
                else if (digits.Length > 0) file[digits[random.Next(digits.Length)]] = (byte)('0' + random.Next(10));
            copy[path] = file;
            return copy;
        }
        var cases = new List<(string Mutation, byte[] Body)>();
        for (var i = 0; i < 6; i++) cases.Add(("truncated", bundle[..random.Next(bundle.Length - 1)]));
        for (var i = 0; i < 6; i++)
        {
            // Past the gzip header, whose time and OS bytes do not matter; the CRC catches the rest.
            var damaged = (byte[])bundle.Clone();
            for (var n = random.Next(1, 4); n > 0; n--) damaged[random.Next(10, damaged.Length)] ^= (byte)random.Next(1, 256);
            cases.Add(("compressed bytes flipped", damaged));
        }
        for (var i = 0; i < 6; i++)
        {
            var altered = Altered(out var path);
            cases.Add(($"{path} altered, manifest kept", Pack(altered, fixManifest: false)));
        }

        await using var target = await Target.CreateAsync();
        using var admin = target.App.Admin();
        foreach (var (mutation, body) in cases)
        {
            var response = await admin.PostAsync("/api/import/bundle", Gzip(body));
            var status = (int)response.StatusCode;
            Assert.True(status is >= 400 and < 500, $"{mutation}: {status} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(0, (await CountsAsync(target.App)).Datasets);

        // Altered lines with a manifest to match: refused with their lines, or still consistent and then written by a
        // job that succeeds (never a write that fails half-way on something the check let through).
        for (var i = 0; i < 12; i++)
        {
            var response = await admin.PostAsync("/api/import/bundle", Gzip(Pack(Altered(out var path, digitsOnly: i % 2 == 1), fixManifest: true)));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Accepted or HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
            output.WriteLine($"{path} altered: {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.Accepted)
                await WaitForJobAsync(admin, new HttpResponseMessage(HttpStatusCode.Accepted) { Content = new StringContent(text) });
        }
    }

    [Fact]
    public async Task A_dataset_that_exists_with_other_classes_or_labels_is_not_overwritten()
    {
        var bundle = await source.BundleAsync();
        await using var target = await Target.CreateAsync();
        using var admin = target.App.Admin();
        await TestData.CreateDatasetAsync(admin, "demo-val", DemoSeeder.Classes.Reverse());
        var problem = await (await admin.PostAsync("/api/import/bundle", Gzip(bundle))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var error = problem.GetProperty("errors")[0];
        Assert.Equal("datasets.ndjson", error.GetProperty("file").GetString());
        Assert.Contains("other classes", error.GetProperty("message").GetString());
        Assert.Equal(1, (await CountsAsync(target.App)).Datasets);
    }

    [Fact]
    public async Task Only_admins_export_and_import_bundles()
    {
        using var anonymous = source.App.Anonymous();
        using var reviewer = await source.App.UserAsync("bundle-auth-reviewer", "reviewer");
        await (await anonymous.GetAsync("/api/datasets/demo-val/export/bundle")).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await reviewer.GetAsync("/api/datasets/demo-val/export/bundle")).ProblemAsync(HttpStatusCode.Forbidden);
        await (await anonymous.PostAsync("/api/import/bundle", Gzip([1, 2]))).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await reviewer.PostAsync("/api/import/bundle", Gzip([1, 2]))).ProblemAsync(HttpStatusCode.Forbidden);
        using var admin = source.App.Admin();
        await (await admin.GetAsync("/api/datasets/no-such/export/bundle")).ProblemAsync(HttpStatusCode.NotFound);
        await (await admin.GetAsync("/api/datasets/demo-val/export/bundle?with=no-such")).ProblemAsync(HttpStatusCode.NotFound);
    }
}
