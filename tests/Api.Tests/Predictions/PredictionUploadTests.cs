using System.Net;
using System.Text;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Predictions;

public sealed class PredictionUploadTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    private async Task<HttpClient> SetUpAsync(string name, int images = 6)
    {
        using var admin = App.Admin();
        await CreateDatasetAsync(admin, name, images);
        var owner = await App.UserAsync(name + "-owner", "uploader");
        await CreateModelAsync(owner, name);
        return owner;
    }

    [Fact]
    public async Task A_JSON_upload_with_wnids_is_stored_and_creates_review_items()
    {
        using var owner = await SetUpAsync("json-up");
        var response = await PutAsync(owner, "json-up", "json-up", Body(Json(Rows(6, 2)), "application/json"));
        var result = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal("applied", result.GetProperty("outcome").GetString());
        Assert.Equal(6, result.GetProperty("images").GetInt32());
        Assert.Equal(12, result.GetProperty("labels").GetInt32());
        Assert.Equal(2, result.GetProperty("k").GetInt32());
        Assert.Equal(1.0, result.GetProperty("coverage").GetDouble());
        Assert.Equal(64, result.GetProperty("checksum").GetString()!.Length);
        Assert.True(result.GetProperty("uploadId").GetInt64() > 0);
        Assert.True(result.GetProperty("elapsedMs").GetDouble() > 0);
        // Top-1 = the original label for every image (shift 0): 6 pairs, all pending.
        Assert.Equal(6, result.GetProperty("newForReview").GetInt64());

        var stored = await StoredAsync(App, "json-up", "json-up");
        Assert.Equal("img_000.JPEG:0 1:-", stored[0]);
        Assert.Equal("img_004.JPEG:4 0:-", stored[4]);
        await App.FollowupsDoneAsync();
        Assert.Equal(6, await CountAsync(App,
            "select count(*) from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id where d.slug = 'json-up'"));

        // Another model predicting the next class adds one top-1 pair per image beside the original labels.
        await CreateModelAsync(owner, "json-up-2");
        var second = await (await PutAsync(owner, "json-up-2", "json-up", Body(Json(Rows(6, 1, shift: 1)), "application/json"))).JsonAsync();
        Assert.Equal(6, second.GetProperty("newForReview").GetInt64());
        await App.FollowupsDoneAsync();
        Assert.Equal(12, await CountAsync(App,
            "select count(*) from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id where d.slug = 'json-up'"));
    }

    [Fact]
    public async Task A_follow_up_left_by_a_crash_is_done_by_the_worker_and_readers_of_review_items_wait_for_uploads()
    {
        using var owner = await SetUpAsync("followup");
        var first = await (await PutAsync(owner, "followup", "followup", Body(Json(Rows(6, 1)), "application/json"))).JsonAsync();
        // The review queue answers with the new items at once: its readers wait for this process's follow-ups.
        using var reviewer = await App.UserAsync("followup-reviewer", "reviewer");
        var next = await reviewer.GetAsync("/api/review/next?dataset=followup");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);

        // A crash after the commit of a replacement: its follow-up is recorded, the items and the old rows not done.
        var second = await (await PutAsync(owner, "followup", "followup", Body(Json(Rows(6, 1, shift: 1)), "application/json"))).JsonAsync();
        await App.FollowupsDoneAsync();
        await using (var connection = await App.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                delete from review_items r using images i, datasets d
                where i.id = r.image_id and d.id = i.dataset_id and d.slug = 'followup' and r.wnid <> i.original_wnid;
                insert into prediction_blocks (upload_id, block, k, labels, scores)
                select @old, block, k, labels, scores from prediction_blocks where upload_id = @current;
                insert into prediction_followups (upload_id, replaced_upload_id) values (@current, @old);
                """,
                new { old = first.GetProperty("uploadId").GetInt64(), current = second.GetProperty("uploadId").GetInt64() });
        }
        // The worker finds it by itself (as at start-up, or from another API process) within seconds.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await CountAsync(App, "select count(*) from prediction_followups") > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Equal(0, await CountAsync(App, "select count(*) from prediction_followups"));
        Assert.Equal(12, await CountAsync(App,
            "select count(*) from review_items r join images i on i.id = r.image_id join datasets d on d.id = i.dataset_id where d.slug = 'followup'"));
        Assert.Equal(0, await CountAsync(App, "select count(*) from predictions where upload_id = @old",
            new { old = first.GetProperty("uploadId").GetInt64() }));
        Assert.Equal(6, await CountAsync(App, "select count(*) from predictions where upload_id = @current",
            new { current = second.GetProperty("uploadId").GetInt64() }));
    }

    [Fact]
    public async Task CSV_with_class_indices_and_scores_round_trips()
    {
        using var owner = await SetUpAsync("csv-up");
        var csv = new StringBuilder("image,label1,label2,label3,score1,score2,score3\n");
        foreach (var (image, labels, scores) in Rows(6, 3, shift: 2, scores: true))
            csv.Append($"{Image(image)},{string.Join(',', labels)},{string.Join(',', scores!.Select(s => s.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}\n");
        var response = await PutAsync(owner, "csv-up", "csv-up", Body(csv.ToString(), "text/csv"), "?labels=index");
        var result = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal(3, result.GetProperty("k").GetInt32());
        var stored = await StoredAsync(App, "csv-up", "csv-up");
        Assert.Equal("img_000.JPEG:2 3 4:0.5 0.25 0.16666667", stored[0]);

        var indices = await owner.GetStringAsync("/api/models/csv-up/predictions/csv-up?format=csv&labels=index");
        Assert.Equal(csv.ToString(), indices);
        var json = await owner.GetStringAsync("/api/models/csv-up/predictions/csv-up?format=json");
        Assert.StartsWith("{\"predictions\":[{\"image\":\"img_000.JPEG\",\"labels\":[\"n01484850\",\"n01491361\",\"n01494475\"],\"scores\":[0.5,0.25,0.16666667]}", json);

        // Every downloaded form is the same content: uploading it again is a no-op.
        foreach (var (body, type, query) in new[] { (indices, "text/csv", "?labels=index"), (json, "application/json", "") })
        {
            var again = await (await PutAsync(owner, "csv-up", "csv-up", Body(body, type), query)).JsonAsync();
            Assert.Equal("unchanged", again.GetProperty("outcome").GetString());
            Assert.Equal(result.GetProperty("checksum").GetString(), again.GetProperty("checksum").GetString());
        }
        var wnids = await owner.GetStringAsync("/api/models/csv-up/predictions/csv-up?format=csv");
        Assert.StartsWith("image,label1,label2,label3,score1,score2,score3\nimg_000.JPEG,n01484850,n01491361,n01494475,0.5,0.25,", wnids);
        var viaWnids = await (await PutAsync(owner, "csv-up", "csv-up", Body(wnids, "text/csv"))).JsonAsync();
        Assert.Equal("unchanged", viaWnids.GetProperty("outcome").GetString());
    }

    [Theory]
    [InlineData("application/x-ndjson", false)]
    [InlineData("application/x-ndjson", true)]
    [InlineData("application/json", true)]
    [InlineData("text/csv", true)]
    public async Task Every_format_is_accepted_plain_or_gzipped(string contentType, bool gzip)
    {
        var name = $"fmt-{contentType.Split('/')[1].Replace("x-", "")}-{(gzip ? "gz" : "plain")}";
        using var owner = await SetUpAsync(name);
        var rows = Rows(6, 2).ToList();
        var text = contentType switch
        {
            "application/json" => Json(rows),
            "text/csv" => "image,label1,label2\n" + string.Concat(rows.Select(r => $"{Image(r.Image)},{Classes[r.Labels[0]]},{r.Labels[1]}\n")),
            _ => string.Concat(rows.Select(r => $"{{\"image\":\"{Image(r.Image)}\",\"labels\":[\"{Classes[r.Labels[0]]}\",\"{Classes[r.Labels[1]]}\"]}}\n")),
        };
        // CSV mixes a wnid and a class index as text: in wnid mode only wnids are accepted, so use wnids throughout.
        if (contentType == "text/csv")
            text = "image,label1,label2\n" + string.Concat(rows.Select(r => $"{Image(r.Image)},{Classes[r.Labels[0]]},{Classes[r.Labels[1]]}\n"));
        var response = await PutAsync(owner, name, name, Body(text, contentType, gzip));
        var result = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal(6, result.GetProperty("images").GetInt32());
        Assert.Equal(["img_000.JPEG:0 1:-", "img_001.JPEG:1 2:-"], (await StoredAsync(App, name, name)).Take(2));

        var history = await (await owner.GetAsync($"/api/models/{name}/uploads")).JsonAsync();
        var format = history.EnumerateArray().Single().GetProperty("format").GetString();
        Assert.Equal(contentType switch { "application/json" => "json", "text/csv" => "csv", _ => "ndjson" }, format);
    }

    public static TheoryData<string, string, string, long, string> BadBodies => new()
    {
        // name, content type, body, expected line, expected field
        { "unknown image", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764"]},{"image":"nope.JPEG","labels":["n01440764"]}]}""", 2, "image" },
        { "unknown wnid", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n02085620"]}]}""", 1, "labels[1]" },
        { "index out of range", "text/csv", "image,label1\nimg_000.JPEG,0\nimg_001.JPEG,5\n", 3, "labels[0]" },
        { "duplicate image", "application/x-ndjson", "{\"image\":\"img_000.JPEG\",\"labels\":[\"n01440764\"]}\n{\"image\":\"img_000.JPEG\",\"labels\":[\"n01443537\"]}\n", 2, "image" },
        { "mixed k", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n01443537"]},{"image":"img_001.JPEG","labels":["n01440764"]}]}""", 2, "labels" },
        { "duplicate label", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n01440764"]}]}""", 1, "labels[1]" },
        { "six labels", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n01443537","n01484850","n01491361","n01494475","n01440764"]}]}""", 1, "labels" },
        { "scores mismatch", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764","n01443537"],"scores":[0.5]}]}""", 1, "scores" },
        { "malformed JSON", "application/json", "{\"predictions\":[{\"image\":\"img_000.JPEG\",\n\"labels\":[\"n01440764\"", 2, "body" },
        { "malformed NDJSON", "application/x-ndjson", "{\"image\":\"img_000.JPEG\",\"labels\":[\"n01440764\"]}\n{\"image\":\n", 2, "row" },
        { "malformed CSV", "text/csv", "image,label1\nimg_000.JPEG,0,7\n", 2, "row" },
        { "bad CSV header", "text/csv", "file,top1\nimg_000.JPEG,0\n", 1, "header" },
        { "empty JSON", "application/json", "", 1, "body" },
        { "empty CSV", "text/csv", "", 1, "body" },
        { "empty NDJSON", "application/x-ndjson", "\n\n", 1, "body" },
        { "incomplete coverage", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764"]}]}""", 0, "coverage" },
        { "a wnid in index mode", "text/csv", "image,label1\nimg_000.JPEG,n01440764\n", 2, "labels[0]" },
        { "image not a string", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764"]},{"image":7,"labels":["n01440764"]}]}""", 2, "image" },
        { "row not an object", "application/json", """{"predictions":[["img_000.JPEG","n01440764"]]}""", 1, "row" },
        { "label an object", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":[{"wnid":"n01440764"}]}]}""", 1, "labels[0]" },
        { "predictions not an array", "application/json", """{"predictions":{"image":"img_000.JPEG"}}""", 1, "body" },
        { "content after the document", "application/json", """{"predictions":[{"image":"img_000.JPEG","labels":["n01440764"]}]} {}""", 1, "body" },
    };

    [Fact]
    public async Task JSON_names_match_ignoring_case_and_escapes_and_unknown_properties_are_ignored()
    {
        using var owner = await SetUpAsync("json-names", images: 2);
        var body = """
            {"Predictions": [{"IMAGE": "img_000.JPEG", "lab\u0065ls": ["n01440764"], "note": {"x": [1, 2]}},
                             {"image": "img_\u0030\u00301.JPEG", "labels": [1], "scores": [0.75]}], "version": 2}
            """;
        var response = await PutAsync(owner, "json-names", "json-names", Body(body, "application/json"), "?labels=index");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode); // "n01440764" is not an index: labels=index
        var result = await (await PutAsync(owner, "json-names", "json-names",
            Body(body.Replace("\"n01440764\"", "0"), "application/json"), "?labels=index")).JsonAsync();
        Assert.Equal(2, result.GetProperty("images").GetInt32());
        var stored = await StoredAsync(App, "json-names", "json-names");
        Assert.Equal(["img_000.JPEG:0:-", "img_001.JPEG:1:0.75"], stored);
    }

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_a_422_listing_row_and_field_and_the_previous_predictions_stay(
        string name, string contentType, string body, long line, string field)
    {
        var slug = "bad-" + name.Replace(' ', '-').ToLowerInvariant();
        using var owner = await SetUpAsync(slug);
        var ok = await PutAsync(owner, slug, slug, Body(Json(Rows(6, 1)), "application/json"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var before = await StoredAsync(App, slug, slug);

        var query = name is "index out of range" or "malformed CSV" or "bad CSV header" or "a wnid in index mode" ? "?labels=index" : "";
        var problem = await (await PutAsync(owner, slug, slug, Body(body, contentType), query)).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.True(errors.Count >= 1, problem.ToString());
        Assert.Equal(line, errors[0].GetProperty("line").GetInt64());
        Assert.Equal(field, errors[0].GetProperty("field").GetString());
        Assert.Equal(errors.Count, problem.GetProperty("errorCount").GetInt64());

        Assert.Equal(before, await StoredAsync(App, slug, slug));
        Assert.Equal(1, await CountAsync(App,
            "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = @slug", new { slug }));
    }

    [Fact]
    public async Task Thousands_of_bad_rows_list_100_errors_and_count_all()
    {
        using var owner = await SetUpAsync("many-bad");
        var csv = "image,label1\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => $"missing_{i}.JPEG,n01440764\n"));
        var problem = await (await PutAsync(owner, "many-bad", "many-bad", Body(csv, "text/csv"))).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(100, problem.GetProperty("errors").GetArrayLength());
        Assert.Equal(3000, problem.GetProperty("errorCount").GetInt64());
    }

    [Fact]
    public async Task Wrong_content_types_encodings_and_oversized_bodies_are_refused()
    {
        using var owner = await SetUpAsync("refused");
        await (await PutAsync(owner, "refused", "refused", Body("x", "text/plain"))).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        var brotli = Body(Json(Rows(6, 1)), "application/json");
        brotli.Headers.ContentEncoding.Add("br");
        await (await PutAsync(owner, "refused", "refused", brotli)).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        var notGzip = Body(Json(Rows(6, 1)), "application/json");
        notGzip.Headers.ContentEncoding.Add("gzip");
        var bad = await (await PutAsync(owner, "refused", "refused", notGzip)).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("body", bad.GetProperty("errors")[0].GetProperty("field").GetString());
        await (await PutAsync(owner, "refused", "nope", Body(Json(Rows(6, 1)), "application/json"))).ProblemAsync(HttpStatusCode.NotFound);
        await (await PutAsync(owner, "nope", "refused", Body(Json(Rows(6, 1)), "application/json"))).ProblemAsync(HttpStatusCode.NotFound);
        await (await PutAsync(owner, "refused", "refused", Body(Json(Rows(6, 1)), "application/json"), "?labels=names"))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);

        using var small = new RelabelApp(App.Database, new Dictionary<string, string?> { ["Relabel:MaxPredictionBytes"] = "100" });
        using var client = small.Admin();
        var problem = await (await PutAsync(client, "refused", "refused", Body(Json(Rows(6, 1)), "application/json")))
            .ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("100", problem.GetProperty("detail").GetString());
        Assert.Equal(0, await CountAsync(App, "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = 'refused'"));
    }

    [Fact]
    public async Task Partial_uploads_report_their_coverage()
    {
        using var owner = await SetUpAsync("partial", images: 8);
        var result = await (await PutAsync(owner, "partial", "partial", Body(Json(Rows(2, 1)), "application/json"), "?partial=true")).JsonAsync();
        Assert.Equal(0.25, result.GetProperty("coverage").GetDouble());
        Assert.Equal(8, result.GetProperty("datasetImages").GetInt64());
        var sets = await (await App.Anonymous().GetAsync("/api/models/partial/predictions")).JsonAsync();
        Assert.Equal(0.25, sets[0].GetProperty("coverage").GetDouble());
        Assert.Equal(2, sets[0].GetProperty("rows").GetInt32());
    }

    [Fact]
    public async Task Identical_content_is_a_no_op_recorded_in_the_history()
    {
        using var owner = await SetUpAsync("same");
        var first = await (await PutAsync(owner, "same", "same", Body(Json(Rows(6, 2)), "application/json"))).JsonAsync();
        var ndjson = string.Concat(Rows(6, 2).Select(r => $"{{\"image\":\"{Image(r.Image)}\",\"labels\":[{r.Labels[0]},{r.Labels[1]}]}}\n"));
        var second = await (await PutAsync(owner, "same", "same", Body(ndjson, "application/x-ndjson", gzip: true), "?labels=index")).JsonAsync();
        Assert.Equal("unchanged", second.GetProperty("outcome").GetString());
        Assert.Equal(first.GetProperty("checksum").GetString(), second.GetProperty("checksum").GetString());
        Assert.Equal(6, second.GetProperty("newForReview").GetInt64());

        var history = (await (await App.Anonymous().GetAsync("/api/models/same/uploads")).JsonAsync()).EnumerateArray().ToList();
        Assert.Equal(["unchanged", "applied"], history.Select(h => h.GetProperty("outcome").GetString()));
        Assert.Equal([false, true], history.Select(h => h.GetProperty("current").GetBoolean()));
        Assert.Equal("same-owner", history[0].GetProperty("uploadedBy").GetString());
        Assert.Equal(6, await CountAsync(App,
            "select count(*) from predictions p join prediction_uploads u on u.id = p.upload_id join models m on m.id = u.model_id where m.slug = 'same'"));
    }

    [Fact]
    public async Task A_replacement_is_atomic_for_concurrent_readers()
    {
        using var owner = await SetUpAsync("atomic", images: 300);
        var versions = new[] { Json(Rows(300, 5, shift: 0)), Json(Rows(300, 5, shift: 1)) };
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, "atomic", "atomic", Body(versions[0], "application/json"))).StatusCode);
        var expected = new HashSet<string>();
        foreach (var version in versions)
        {
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, "atomic", "atomic", Body(version, "application/json"))).StatusCode);
            expected.Add(await owner.GetStringAsync("/api/models/atomic/predictions/atomic?format=csv"));
        }
        Assert.Equal(2, expected.Count);

        using var stop = new CancellationTokenSource();
        var reads = 0;
        using var reader = App.Anonymous();
        var readerTask = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var seen = await reader.GetStringAsync("/api/models/atomic/predictions/atomic?format=csv");
                Assert.Contains(seen, expected);
                reads++;
            }
        });
        for (var i = 0; i < 8; i++)
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, "atomic", "atomic", Body(versions[i % 2], "application/json"))).StatusCode);
        stop.Cancel();
        await readerTask;
        Assert.True(reads > 0);
        await App.FollowupsDoneAsync();
        Assert.Equal(300, await CountAsync(App,
            "select count(*) from predictions p join prediction_uploads u on u.id = p.upload_id join models m on m.id = u.model_id where m.slug = 'atomic'"));
    }

    [Fact]
    public async Task An_image_deleted_while_an_upload_is_under_way_makes_the_upload_a_409_and_nothing_is_written()
    {
        using var owner = await SetUpAsync("held", images: 900);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(owner, "held", "held", Body(Json(Rows(900, 2)), "application/json"))).StatusCode);
        var before = await StoredAsync(App, "held", "held");

        // The upload is held where it starts writing (the lock that serialises one model's uploads on a dataset), after
        // it has read the dataset's images and the whole body: the image is deleted in that moment.
        await using var db = await App.Db.OpenConnectionAsync();
        await db.ExecuteAsync(
            """
            select pg_advisory_lock(hashtextextended('prediction_sets:' || m.id || ':' || d.id, 0))
            from models m, datasets d where m.slug = 'held' and d.slug = 'held'
            """);
        var upload = PutAsync(owner, "held", "held", Body(Json(Rows(900, 2, shift: 1)), "application/json"));
        // This database's upload only: other tests upload in their own databases on the same cluster at the same time.
        const string Held =
            "select count(*) from pg_stat_activity where datname = current_database() and query like '%pg_advisory_xact_lock%' and wait_event_type = 'Lock'";
        for (var i = 0; i < 400 && await db.ExecuteScalarAsync<long>(Held) == 0; i++)
            await Task.Delay(50);
        Assert.True(await db.ExecuteScalarAsync<long>(Held) > 0, "The upload never reached its lock: the test would prove nothing.");
        Assert.Equal(1, await db.ExecuteAsync(
            "delete from images i using datasets d where d.id = i.dataset_id and d.slug = 'held' and i.file_name = @file", new { file = Image(1) }));
        await db.ExecuteAsync("select pg_advisory_unlock_all()");

        // The table's reference check finds it gone before the commit: a 409, nothing written, no row naming a missing image.
        var refused = await (await upload).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("deleted", refused.GetProperty("detail").GetString());
        Assert.Equal(0, await CountAsync(App, "select count(*) from predictions p where not exists (select from images i where i.id = p.image_id)"));
        Assert.Equal(before.Where(r => !r.StartsWith(Image(1))).ToList(), await StoredAsync(App, "held", "held"));
    }

    [Fact]
    public async Task Concurrent_uploads_are_serialised_and_the_last_wins_whole()
    {
        using var owner = await SetUpAsync("race", images: 200);
        var bodies = Enumerable.Range(0, 4).Select(shift => Json(Rows(200, 3, shift))).ToList();
        var results = await Task.WhenAll(bodies.Select(async body =>
        {
            var response = await PutAsync(owner, "race", "race", Body(body, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.JsonAsync()).GetProperty("uploadId").GetInt64();
        }));

        var stored = await StoredAsync(App, "race", "race");
        Assert.Equal(200, stored.Count);
        var shift = int.Parse(stored[0].Split(':')[1].Split(' ')[0]);
        Assert.All(stored.Select((row, i) => (row, i)), r =>
            Assert.Equal((r.i + shift) % 5, int.Parse(r.row.Split(':')[1].Split(' ')[0])));
        // Only the current upload's rows remain; every upload is in the history.
        await App.FollowupsDoneAsync();
        Assert.Equal(200, await CountAsync(App,
            "select count(*) from predictions p join prediction_uploads u on u.id = p.upload_id join models m on m.id = u.model_id where m.slug = 'race'"));
        Assert.Equal(4, await CountAsync(App, "select count(*) from prediction_uploads where id = any(@results)", new { results }));
        var current = await CountAsync(App, "select upload_id from prediction_sets where upload_id = any(@results)", new { results });
        Assert.Equal(results.Max(), current);
    }

    [Fact]
    public async Task Only_the_owner_or_an_admin_may_upload()
    {
        using var owner = await SetUpAsync("guarded");
        var body = Json(Rows(6, 1));
        await (await PutAsync(App.Anonymous(), "guarded", "guarded", Body(body, "application/json"))).ProblemAsync(HttpStatusCode.Unauthorized);
        using var reviewer = await App.UserAsync("guarded-reviewer", "reviewer");
        await (await PutAsync(reviewer, "guarded", "guarded", Body(body, "application/json"))).ProblemAsync(HttpStatusCode.Forbidden);
        using var other = await App.UserAsync("guarded-other", "uploader");
        await (await PutAsync(other, "guarded", "guarded", Body(body, "application/json"))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await other.DeleteAsync("/api/models/guarded/predictions/guarded")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(0, await CountAsync(App,
            "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = 'guarded'"));

        using var admin = App.Admin();
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, "guarded", "guarded", Body(body, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync("/api/models/guarded/predictions/guarded")).StatusCode);
        await (await App.Anonymous().GetAsync("/api/models/guarded/predictions/guarded")).ProblemAsync(HttpStatusCode.NotFound);
    }
}
