using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Review.ReviewTestData;

namespace Relabel.Api.Tests.Review;

public sealed class ReviewTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private const string Tench = "n01440764", Goldfish = "n01443537", Chihuahua = "n02085620", ShihTzu = "n02086240";

    private RelabelApp App => fixture.App;

    private Task<long> LabelVersionAsync(string slug) =>
        App.ScalarAsync<long>("select label_version from datasets where slug = @slug", new { slug });

    [Fact]
    public async Task Predictions_create_one_item_per_original_and_top1_label_and_next_shows_them_with_model_counts()
    {
        var images = await CreateDatasetAsync(App, "items", Tench, Tench, Chihuahua);
        await AddPredictionsAsync(App, "items", "items-a", new Dictionary<string, string> { ["img_1"] = Goldfish, ["img_2"] = Tench, ["img_3"] = ShihTzu });
        await AddPredictionsAsync(App, "items", "items-b", new Dictionary<string, string> { ["img_1"] = Goldfish, ["img_2"] = Tench, ["img_3"] = Chihuahua });
        Assert.Equal(5, await App.ScalarAsync<int>(
            "select count(*) from review_items where image_id = any(@ids)", new { ids = images.Values.ToArray() }));

        using var reviewer = await App.UserAsync("items-reviewer", "reviewer");
        // img_1 and img_3 have two pending items, img_2 one: the lowest id of the two-item images comes first.
        var review = await reviewer.NextAsync("dataset=items");
        Assert.Equal(images["img_1"], review.ImageId());
        var labels = review.GetProperty("labels").EnumerateArray().ToList();
        Assert.Equal([Tench, Goldfish], labels.Select(l => l.GetProperty("wnid").GetString()));
        Assert.True(labels[0].GetProperty("isOriginal").GetBoolean());
        Assert.Equal(0, labels[0].GetProperty("models").GetInt32());
        Assert.Equal(2, labels[1].GetProperty("models").GetInt32());
        Assert.Equal("goldfish", labels[1].GetProperty("lemmas")[0].GetString());
        Assert.Equal("pending", labels[1].GetProperty("state").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, labels[1].GetProperty("myVerdict").ValueKind);
        Assert.False(review.GetProperty("flag").GetProperty("problematic").GetBoolean());
    }

    [Fact]
    public async Task Model_counts_follow_a_replaced_upload_and_a_deleted_model()
    {
        var images = await CreateDatasetAsync(App, "counts", Tench, Chihuahua);
        using var admin = App.Admin();
        foreach (var slug in new[] { "counts-a", "counts-b" })
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/models", new { slug, displayName = slug, kind = "model" })).StatusCode);
        async Task UploadAsync(string model, string first, string second)
        {
            var body = new { predictions = new[] { new { image = "img_1", labels = new[] { first } }, new { image = "img_2", labels = new[] { second } } } };
            var upload = await admin.PutAsJsonAsync($"/api/models/{model}/predictions/counts", body);
            Assert.True(upload.StatusCode == HttpStatusCode.OK, await upload.Content.ReadAsStringAsync());
        }
        async Task<Dictionary<string, int>> ReadCountsAsync(long image) =>
            (await admin.ReviewAsync(image)).GetProperty("labels").EnumerateArray()
                .ToDictionary(l => l.GetProperty("wnid").GetString()!, l => l.GetProperty("models").GetInt32());
        // Counted in the database while a new upload's predictions are not in memory, from memory once they are (the
        // leaderboard waits for them): both must agree.
        async Task<Dictionary<string, int>> CountsAsync(long image)
        {
            var counted = await ReadCountsAsync(image);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/leaderboard?dataset=counts")).StatusCode);
            Assert.Equal(counted, await ReadCountsAsync(image));
            return counted;
        }

        await UploadAsync("counts-a", Goldfish, Chihuahua);
        await UploadAsync("counts-b", Goldfish, ShihTzu);
        Assert.Equal(new Dictionary<string, int> { [Tench] = 0, [Goldfish] = 2 }, await CountsAsync(images["img_1"]));
        Assert.Equal(new Dictionary<string, int> { [Chihuahua] = 1, [ShihTzu] = 1 }, await CountsAsync(images["img_2"]));

        // A new upload replaces the model's votes (items stay: a label once predicted is still a candidate).
        await UploadAsync("counts-b", Tench, Chihuahua);
        Assert.Equal(new Dictionary<string, int> { [Tench] = 1, [Goldfish] = 1 }, await CountsAsync(images["img_1"]));
        Assert.Equal(new Dictionary<string, int> { [Chihuahua] = 2, [ShihTzu] = 0 }, await CountsAsync(images["img_2"]));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/models/counts-a")).StatusCode);
        Assert.Equal(new Dictionary<string, int> { [Tench] = 1, [Goldfish] = 0 }, await CountsAsync(images["img_1"]));
    }

    [Fact]
    public async Task Latest_rule_decides_each_submit_bumps_the_label_version_once_and_events_carry_it()
    {
        var images = await CreateDatasetAsync(App, "latest", Tench);
        await AddPredictionsAsync(App, "latest", "latest-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        using var ann = await App.UserAsync("latest-ann", "reviewer");
        using var bob = await App.UserAsync("latest-bob", "reviewer");

        var review = await ann.NextAsync("dataset=latest");
        var submitted = await ann.SubmitAsync(review, new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "wrong" });
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        var body = await submitted.JsonAsync();
        Assert.Equal(1, body.GetProperty("labelVersion").GetInt64());
        Assert.Equal(["correct", "wrong"], body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("state").GetString()));
        Assert.Equal(2, await App.ScalarAsync<long>(
            "select changed_items from label_versions lv join datasets d on d.id = lv.dataset_id where d.slug = 'latest' and version = 1"));

        // A later verdict of someone else overrules; "don't know" decides nothing and changes no state.
        var again = await bob.ReviewAsync(images["img_1"]);
        Assert.Equal(HttpStatusCode.OK, (await bob.SubmitAsync(again, new Dictionary<string, string> { [Tench] = "dont-know", [Goldfish] = "correct" })).StatusCode);
        Assert.Equal(2, await LabelVersionAsync("latest"));
        var states = await App.ScalarAsync<string>(
            "select string_agg(wnid || '=' || state, ',' order by wnid) from review_items where image_id = @id", new { id = images["img_1"] });
        Assert.Equal($"{Tench}=correct,{Goldfish}=correct", states);
        var versions = await App.ScalarAsync<string>(
            """
            select string_agg(u.name || ':' || e.verdict || '@' || e.label_version, ',' order by e.id)
            from verdict_events e join users u on u.id = e.reviewer_id join review_items r on r.id = e.item_id where r.image_id = @id
            """,
            new { id = images["img_1"] });
        Assert.Equal("latest-ann:correct@1,latest-ann:wrong@1,latest-bob:dont-know@2,latest-bob:correct@2", versions);

        // Re-sending the same verdicts writes nothing and keeps the version.
        var same = await (await bob.SubmitAsync(await bob.ReviewAsync(images["img_1"]), new Dictionary<string, string> { [Goldfish] = "correct" })).JsonAsync();
        Assert.Equal(0, same.GetProperty("eventsWritten").GetInt32());
        Assert.Equal(2, await LabelVersionAsync("latest"));
    }

    [Fact]
    public async Task Agreement_rule_waits_for_N_reviewers_disagreement_is_a_conflict_and_adjudication_settles_it()
    {
        using var admin = App.Admin();
        var images = await CreateDatasetAsync(App, "agree", Tench);
        await AddPredictionsAsync(App, "agree", "agree-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/datasets/agree/consensus", new { rule = "agreement:2" })).StatusCode);
        using var ann = await App.UserAsync("agree-ann", "reviewer");
        using var bob = await App.UserAsync("agree-bob", "reviewer");
        var id = images["img_1"];

        await ann.SubmitAsync(await ann.ReviewAsync(id), new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "correct" });
        var afterAnn = await ann.ReviewAsync(id);
        Assert.Equal("pending", afterAnn.Label(Tench).GetProperty("state").GetString());
        Assert.Equal("correct", afterAnn.Label(Tench).GetProperty("myVerdict").GetString());
        Assert.Equal(0, await LabelVersionAsync("agree"));

        await bob.SubmitAsync(await bob.ReviewAsync(id), new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "wrong" });
        var afterBob = await bob.ReviewAsync(id);
        Assert.Equal("correct", afterBob.Label(Tench).GetProperty("state").GetString());
        Assert.Equal("conflict", afterBob.Label(Goldfish).GetProperty("state").GetString());
        Assert.Equal(1, await LabelVersionAsync("agree"));

        // The conflict queue shows the image; only an admin adjudicates.
        Assert.Equal(id, (await admin.NextAsync("dataset=agree&mode=conflicts")).ImageId());
        var item = afterBob.Label(Goldfish);
        var adjudication = new { verdict = "wrong", version = item.GetProperty("version").GetInt32(), note = "a carp, not a goldfish" };
        await (await bob.PostAsJsonAsync($"/api/review/items/{item.GetProperty("itemId")}/adjudicate", adjudication)).ProblemAsync(HttpStatusCode.Forbidden);
        var settled = await (await admin.PostAsJsonAsync($"/api/review/items/{item.GetProperty("itemId")}/adjudicate", adjudication)).JsonAsync();
        Assert.Equal("wrong", settled.GetProperty("state").GetString());
        Assert.Equal(2, await LabelVersionAsync("agree"));
        Assert.Equal(204, (int)(await admin.GetAsync("/api/review/next?dataset=agree&mode=conflicts")).StatusCode);

        // Back to "latest": every item is derived again under the new rule, in one new version.
        var changed = await (await admin.PutAsJsonAsync("/api/datasets/agree/consensus", new { rule = "latest" })).JsonAsync();
        Assert.Equal(0, changed.GetProperty("changedItems").GetInt32());
        await (await admin.PostAsJsonAsync($"/api/review/items/{item.GetProperty("itemId")}/adjudicate",
            new { verdict = "unreviewed", version = settled.GetProperty("version").GetInt32() })).JsonAsync();
        Assert.Equal("wrong", (await admin.ReviewAsync(id)).Label(Goldfish).GetProperty("state").GetString());
        var strict = await (await admin.PutAsJsonAsync("/api/datasets/agree/consensus", new { rule = "agreement:3" })).JsonAsync();
        Assert.Equal(2, strict.GetProperty("changedItems").GetInt32());
        Assert.Equal(strict.GetProperty("labelVersion").GetInt64(), await LabelVersionAsync("agree"));
        Assert.Equal("agreement:3", await App.ScalarAsync<string>(
            "select lv.consensus_rule from label_versions lv join datasets d on d.id = lv.dataset_id where d.slug = 'agree' order by version desc limit 1"));
        await (await admin.PutAsJsonAsync("/api/datasets/agree/consensus", new { rule = "most" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task History_keeps_every_event_and_undo_is_a_new_event()
    {
        var images = await CreateDatasetAsync(App, "history", Chihuahua);
        await AddPredictionsAsync(App, "history", "history-m", new Dictionary<string, string> { ["img_1"] = ShihTzu });
        using var ann = await App.UserAsync("history-ann", "reviewer");
        var id = images["img_1"];

        var first = await ann.ReviewAsync(id);
        await ann.SubmitAsync(first, new Dictionary<string, string> { [Chihuahua] = "correct", [ShihTzu] = "correct" },
            flag: new { problematic = true, reason = "drawing-or-render", version = 0 });
        var second = await ann.ReviewAsync(id);
        Assert.True(second.GetProperty("flag").GetProperty("problematic").GetBoolean());
        // Undo: withdraw the verdict on the shih-tzu and clear the flag.
        await ann.SubmitAsync(second, new Dictionary<string, string> { [ShihTzu] = "unreviewed" },
            flag: new { problematic = false, version = second.GetProperty("flag").GetProperty("version").GetInt32() });
        var third = await ann.ReviewAsync(id);
        Assert.Equal("pending", third.Label(ShihTzu).GetProperty("state").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, third.Label(ShihTzu).GetProperty("myVerdict").ValueKind);
        Assert.False(third.GetProperty("flag").GetProperty("problematic").GetBoolean());

        var history = (await (await ann.GetAsync($"/api/images/{id}/history")).JsonAsync()).EnumerateArray().ToList();
        Assert.Equal(
            ["verdict:correct", "verdict:correct", "flag:True", "verdict:unreviewed", "flag:False"],
            history.Select(e => e.GetProperty("kind").GetString() + ":" +
                (e.GetProperty("kind").GetString() == "flag" ? e.GetProperty("problematic").GetBoolean().ToString() : e.GetProperty("verdict").GetString())));
        Assert.All(history, e => Assert.Equal("history-ann", e.GetProperty("author").GetString()));
        Assert.Equal(2.0, history[0].GetProperty("secondsSpent").GetDouble());
        Assert.Equal("drawing-or-render", history[2].GetProperty("reason").GetString());
        // Version 1: two items and the flag changed; version 2: the withdrawal and the cleared flag.
        Assert.Equal([1L, 1, 1, 2, 2], history.Select(e => e.GetProperty("labelVersion").GetInt64()));
        await (await App.Anonymous().GetAsync($"/api/images/{id}/history")).ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_stale_version_is_a_409_with_the_current_state_and_nothing_is_written()
    {
        var images = await CreateDatasetAsync(App, "stale", Tench);
        await AddPredictionsAsync(App, "stale", "stale-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        using var ann = await App.UserAsync("stale-ann", "reviewer");
        using var bob = await App.UserAsync("stale-bob", "reviewer");
        var id = images["img_1"];
        var seenByAnn = await ann.ReviewAsync(id);
        await bob.SubmitAsync(await bob.ReviewAsync(id), new Dictionary<string, string> { [Goldfish] = "wrong" });
        const string EventsOfImage = "select count(*) from verdict_events e join review_items r on r.id = e.item_id where r.image_id = @id";
        var events = await App.ScalarAsync<long>(EventsOfImage, new { id });
        var version = await LabelVersionAsync("stale");

        var refused = await ann.SubmitAsync(seenByAnn, new Dictionary<string, string> { [Tench] = "correct", [Goldfish] = "correct" });
        var problem = await refused.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("wrong", problem.GetProperty("current").Label(Goldfish).GetProperty("state").GetString());
        Assert.Equal([seenByAnn.Label(Goldfish).GetProperty("itemId").GetInt64()],
            problem.GetProperty("staleItems").EnumerateArray().Select(i => i.GetInt64()));
        Assert.Equal(events, await App.ScalarAsync<long>(EventsOfImage, new { id }));
        Assert.Equal("pending", (await ann.ReviewAsync(id)).Label(Tench).GetProperty("state").GetString());

        // A stale flag version is refused the same way.
        var flagged = await ann.SubmitAsync(await ann.ReviewAsync(id), new Dictionary<string, string>(),
            flag: new { problematic = true, reason = "other", note = "x", version = 7 });
        await flagged.ProblemAsync(HttpStatusCode.Conflict);
        // Bad requests name the field.
        var invalid = await ann.SubmitAsync(await ann.ReviewAsync(id), new Dictionary<string, string> { [Tench] = "maybe" },
            flag: new { problematic = true, reason = "other", version = 0 });
        var invalidProblem = await invalid.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(invalidProblem.HasFieldError("verdicts[0].verdict"), invalidProblem.ToString());
        Assert.True(invalidProblem.HasFieldError("flag.note"), invalidProblem.ToString());
        Assert.Equal(events, await App.ScalarAsync<long>(EventsOfImage, new { id }));
        Assert.Equal(0, await App.ScalarAsync<long>("select count(*) from image_flag_events where image_id = @id", new { id }));
        Assert.Equal(version, await LabelVersionAsync("stale"));
    }

    [Fact]
    public async Task Adjudication_with_a_stale_version_an_invalid_verdict_or_an_unknown_item_is_refused_and_writes_nothing()
    {
        var images = await CreateDatasetAsync(App, "adjudicate", Tench);
        await AddPredictionsAsync(App, "adjudicate", "adjudicate-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        using var admin = App.Admin();
        using var ann = await App.UserAsync("adjudicate-ann", "reviewer");
        var id = images["img_1"];
        var loaded = (await admin.ReviewAsync(id)).Label(Goldfish);
        var itemId = loaded.GetProperty("itemId").GetInt64();
        // A reviewer's verdict moves the item on after the admin loaded it.
        await ann.SubmitAsync(await ann.ReviewAsync(id), new Dictionary<string, string> { [Goldfish] = "wrong" });
        const string Events = "select count(*) from verdict_events where item_id = @itemId";
        var events = await App.ScalarAsync<long>(Events, new { itemId });
        var version = await LabelVersionAsync("adjudicate");

        var stale = await (await admin.PostAsJsonAsync($"/api/review/items/{itemId}/adjudicate",
            new { verdict = "correct", version = loaded.GetProperty("version").GetInt32() })).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("wrong", stale.GetProperty("current").GetProperty("state").GetString());
        var current = stale.GetProperty("current").GetProperty("version").GetInt32();
        Assert.NotEqual(loaded.GetProperty("version").GetInt32(), current);

        var invalid = await (await admin.PostAsJsonAsync($"/api/review/items/{itemId}/adjudicate",
            new { verdict = "dont-know", version = current })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(invalid.HasFieldError("verdict"), invalid.ToString());
        await (await admin.PostAsJsonAsync("/api/review/items/999999999/adjudicate", new { verdict = "correct", version = 0 }))
            .ProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(events, await App.ScalarAsync<long>(Events, new { itemId }));
        Assert.Equal(version, await LabelVersionAsync("adjudicate"));
        Assert.Equal("wrong", (await admin.ReviewAsync(id)).Label(Goldfish).GetProperty("state").GetString());
        // With the version it was shown, the same admin's word is taken.
        var settled = await (await admin.PostAsJsonAsync($"/api/review/items/{itemId}/adjudicate", new { verdict = "correct", version = current })).JsonAsync();
        Assert.Equal("correct", settled.GetProperty("state").GetString());
        Assert.Equal(events + 1, await App.ScalarAsync<long>(Events, new { itemId }));
    }

    [Fact]
    public async Task Leases_give_concurrent_reviewers_different_images_until_they_expire_and_finished_images_are_skipped()
    {
        var images = await CreateDatasetAsync(App, "lease", Tench, Tench, Tench);
        await AddPredictionsAsync(App, "lease", "lease-m", new Dictionary<string, string> { ["img_1"] = Goldfish, ["img_2"] = Goldfish, ["img_3"] = Goldfish });
        using var ann = await App.UserAsync("lease-ann", "reviewer");
        using var bob = await App.UserAsync("lease-bob", "reviewer");

        var annFirst = await ann.NextAsync("dataset=lease");
        var bobFirst = await bob.NextAsync("dataset=lease");
        Assert.Equal(images["img_1"], annFirst.ImageId());
        Assert.Equal(images["img_2"], bobFirst.ImageId());
        // Asking again (a reload) gives the same image; prefetching past it gives another one.
        Assert.Equal(images["img_1"], (await ann.NextAsync("dataset=lease")).ImageId());
        Assert.Equal(images["img_3"], (await ann.NextAsync($"dataset=lease&skip={images["img_1"]}")).ImageId());

        // Concurrent requests never share an image.
        using var cat = await App.UserAsync("lease-cat", "reviewer");
        Assert.Equal(204, (int)(await cat.GetAsync("/api/review/next?dataset=lease")).StatusCode);

        // An expired lease frees the image.
        await App.ExecuteAsync("update review_leases set expires_at = now() - interval '1 second' where image_id = @id", new { id = images["img_2"] });
        Assert.Equal(images["img_2"], (await cat.NextAsync("dataset=lease")).ImageId());

        // A submitted image is done for its reviewer, even while its items wait for others.
        await ann.SubmitAsync(annFirst, new Dictionary<string, string> { [Tench] = "dont-know", [Goldfish] = "dont-know" });
        Assert.Equal(images["img_3"], (await ann.NextAsync("dataset=lease")).ImageId());
        Assert.Equal(0, await App.ScalarAsync<int>("select count(*) from review_leases where image_id = @id", new { id = images["img_1"] }));
    }

    [Fact]
    public async Task A_skip_is_recorded_with_its_reason_ends_the_lease_and_refuses_bad_input_and_other_roles()
    {
        var images = await CreateDatasetAsync(App, "skip", Tench, Tench);
        await AddPredictionsAsync(App, "skip", "skip-m", new Dictionary<string, string> { ["img_1"] = Goldfish, ["img_2"] = Goldfish });
        using var ann = await App.UserAsync("skip-ann", "reviewer");
        using var bob = await App.UserAsync("skip-bob", "reviewer");
        var first = await ann.NextAsync("dataset=skip");
        var id = first.ImageId();
        const string Skips = "select count(*) from review_skips where image_id = @id";

        // Bad reasons and overlong notes: 422 with the field, nothing written; an unknown image: 404.
        var invalid = await (await ann.PostAsJsonAsync($"/api/review/images/{id}/skip", new { reason = "bored", note = new string('x', 1001) }))
            .ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(invalid.HasFieldError("reason"), invalid.ToString());
        Assert.True(invalid.HasFieldError("note"), invalid.ToString());
        await (await ann.PostAsJsonAsync("/api/review/images/999999999/skip", new { reason = "unsure" })).ProblemAsync(HttpStatusCode.NotFound);
        // Only reviewers skip.
        using var uploader = await App.UserAsync("skip-uploader", "uploader");
        await (await uploader.PostAsJsonAsync($"/api/review/images/{id}/skip", new { reason = "unsure" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await App.Anonymous().PostAsJsonAsync($"/api/review/images/{id}/skip", new { reason = "unsure" })).ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(0, await App.ScalarAsync<long>(Skips, new { id }));

        // The skip is stored with who, why and the note, and the image is free for another reviewer at once.
        var response = await ann.PostAsJsonAsync($"/api/review/images/{id}/skip", new { reason = "needs-expert", note = "a rare eel?" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var skip = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.Equal(id, skip.GetProperty("imageId").GetInt64());
        Assert.Equal("needs-expert", skip.GetProperty("reason").GetString());
        Assert.Equal("needs-expert|a rare eel?|skip-ann", await App.ScalarAsync<string>(
            "select s.reason || '|' || s.note || '|' || u.name from review_skips s join users u on u.id = s.reviewer_id where s.image_id = @id",
            new { id }));
        Assert.Equal(0, await App.ScalarAsync<long>("select count(*) from review_leases where image_id = @id", new { id }));
        Assert.Equal(id, (await bob.NextAsync("dataset=skip")).ImageId());
        // Nothing about the labels changed.
        Assert.Equal(0, await App.ScalarAsync<long>(
            "select count(*) from verdict_events e join review_items r on r.id = e.item_id where r.image_id = @id", new { id }));

        // Progress counts the images each queue holds, for the time left.
        var all = (await ann.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/review/progress?dataset=skip"))
            .GetProperty("subsets").EnumerateArray().Single(s => s.GetProperty("subset").GetString() == "all");
        Assert.Equal(2, all.GetProperty("pendingImages").GetInt64());
        Assert.Equal(0, all.GetProperty("conflictImages").GetInt64());
    }

    [Fact]
    public async Task Anonymous_and_uploader_callers_cannot_review()
    {
        var images = await CreateDatasetAsync(App, "authz", Tench);
        await AddPredictionsAsync(App, "authz", "authz-m", new Dictionary<string, string> { ["img_1"] = Goldfish });
        using var uploader = await App.UserAsync("authz-uploader", "uploader");
        var body = new { verdicts = Array.Empty<object>() };
        foreach (var (client, status) in new[] { (App.Anonymous(), HttpStatusCode.Unauthorized), (uploader, HttpStatusCode.Forbidden) })
        {
            await (await client.GetAsync("/api/review/next?dataset=authz")).ProblemAsync(status);
            await (await client.PostAsJsonAsync($"/api/review/images/{images["img_1"]}", body)).ProblemAsync(status);
            await (await client.GetAsync("/api/review/progress?dataset=authz")).ProblemAsync(status);
            await (await client.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, body = "x" })).ProblemAsync(status);
        }
        using var reviewer = await App.UserAsync("authz-reviewer", "reviewer");
        await (await reviewer.PutAsJsonAsync("/api/datasets/authz/consensus", new { rule = "latest" })).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(0, await App.ScalarAsync<long>("select count(*) from verdict_events e join review_items r on r.id = e.item_id where r.image_id = @id",
            new { id = images["img_1"] }));
    }

    [Fact]
    public async Task Progress_counts_items_by_subset_and_reviewers_and_computes_agreement_on_a_hand_worked_example()
    {
        // Four images, one item each (the original label). Ratings (C correct, W wrong, - don't know):
        //          ann bob cat
        //   item1   C   C   C
        //   item2   C   W   C
        //   item3   W   W   W
        //   item4   W   W   -
        // ann-bob: p_o = 3/4, p_e = 1/2·1/4 + 1/2·3/4 = 1/2, κ = 1/2.
        // ann-cat: p_o = 1, p_e = 2/3·2/3 + 1/3·1/3 = 5/9, κ = 1.
        // bob-cat: p_o = 2/3, p_e = 1/3·2/3 + 2/3·1/3 = 4/9, κ = (2/9)/(5/9) = 2/5.
        // Fleiss: P_i = 1, 1/3, 1, 1 → P̄ = 5/6; p_C = 5/11, p_W = 6/11 → P̄_e = 61/121; κ = 239/360.
        var images = await CreateDatasetAsync(App, "progress", Tench, Tench, Chihuahua, Chihuahua);
        await AddPredictionsAsync(App, "progress", "progress-m",
            new Dictionary<string, string> { ["img_1"] = Tench, ["img_2"] = Tench, ["img_3"] = Chihuahua, ["img_4"] = Chihuahua });
        var ratings = new Dictionary<string, string[]>
        {
            ["progress-ann"] = ["correct", "correct", "wrong", "wrong"],
            ["progress-bob"] = ["correct", "wrong", "wrong", "wrong"],
            ["progress-cat"] = ["correct", "correct", "wrong", "dont-know"],
        };
        foreach (var (name, verdicts) in ratings)
        {
            using var reviewer = await App.UserAsync(name, "reviewer");
            for (var i = 0; i < 4; i++)
            {
                var review = await reviewer.ReviewAsync(images[$"img_{i + 1}"]);
                var wnid = review.GetProperty("labels")[0].GetProperty("wnid").GetString()!;
                Assert.Equal(HttpStatusCode.OK, (await reviewer.SubmitAsync(review, new Dictionary<string, string> { [wnid] = verdicts[i] }, seconds: 10)).StatusCode);
            }
        }
        using var admin = App.Admin();
        var progress = await (await admin.GetAsync("/api/review/progress?dataset=progress")).JsonAsync();
        var subsets = progress.GetProperty("subsets").EnumerateArray().ToDictionary(s => s.GetProperty("subset").GetString()!);
        Assert.Equal(4, subsets["all"].GetProperty("items").GetInt64());
        Assert.Equal(4, subsets["all"].GetProperty("decided").GetInt64());
        Assert.Equal(2, subsets["dogs"].GetProperty("items").GetInt64());
        Assert.Equal(2, subsets["organisms-not-dogs"].GetProperty("images").GetInt64());

        var reviewers = progress.GetProperty("reviewers").EnumerateArray().ToDictionary(r => r.GetProperty("reviewer").GetString()!);
        Assert.Equal(4, reviewers["progress-cat"].GetProperty("verdicts").GetInt64());
        Assert.Equal(4, reviewers["progress-ann"].GetProperty("today").GetInt64());
        Assert.Equal(360.0, reviewers["progress-ann"].GetProperty("verdictsPerHour").GetDouble(), 6);

        var agreement = progress.GetProperty("agreement");
        Assert.Equal(4, agreement.GetProperty("items").GetInt32());
        var pairs = agreement.GetProperty("pairs").EnumerateArray()
            .ToDictionary(p => p.GetProperty("reviewerA").GetString() + "/" + p.GetProperty("reviewerB").GetString());
        Assert.Equal(0.75, pairs["progress-ann/progress-bob"].GetProperty("agreement").GetDouble(), 9);
        Assert.Equal(0.5, pairs["progress-ann/progress-bob"].GetProperty("cohensKappa").GetDouble(), 9);
        Assert.Equal(1.0, pairs["progress-ann/progress-cat"].GetProperty("cohensKappa").GetDouble(), 9);
        Assert.Equal(0.4, pairs["progress-bob/progress-cat"].GetProperty("cohensKappa").GetDouble(), 9);
        Assert.Equal(3, pairs["progress-bob/progress-cat"].GetProperty("items").GetInt32());
        Assert.Equal(239.0 / 360, agreement.GetProperty("fleissKappa").GetDouble(), 9);
        Assert.Equal(0, progress.GetProperty("myToday").GetInt64());
    }

    [Fact]
    public async Task Admins_write_guide_notes_for_classes_and_pairs_and_reviewers_see_them_beside_the_labels()
    {
        var images = await CreateDatasetAsync(App, "guide", Chihuahua);
        await AddPredictionsAsync(App, "guide", "guide-m", new Dictionary<string, string> { ["img_1"] = ShihTzu });
        using var admin = App.Admin();
        var own = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Chihuahua, body = "Tiny, **apple-headed**." })).JsonAsync();
        // The pair is stored once, in wnid order, whichever way round it is written.
        var pair = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = ShihTzu, otherWnid = Chihuahua, body = "Long coat: shih-tzu." })).JsonAsync();
        Assert.Equal(Chihuahua, pair.GetProperty("wnid").GetString());
        Assert.Equal(ShihTzu, pair.GetProperty("otherWnid").GetString());
        var replaced = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Chihuahua, otherWnid = ShihTzu, body = "Long silky coat: shih-tzu." })).JsonAsync();
        Assert.Equal(pair.GetProperty("id").GetInt64(), replaced.GetProperty("id").GetInt64());
        await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, body = "Not shown for dogs." });
        await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = "n00000001", body = "x" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);

        using var reviewer = await App.UserAsync("guide-reviewer", "reviewer");
        var review = await reviewer.ReviewAsync(images["img_1"]);
        Assert.Equal(["Tiny, **apple-headed**.", "Long silky coat: shih-tzu."],
            review.GetProperty("notes").EnumerateArray().Select(n => n.GetProperty("body").GetString()));
        Assert.Equal(2, (await (await reviewer.GetAsync($"/api/guide-notes?wnid={ShihTzu}")).JsonAsync()).GetArrayLength() + 1);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/guide-notes/{own.GetProperty("id")}")).StatusCode);
        await (await admin.DeleteAsync($"/api/guide-notes/{own.GetProperty("id")}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Single((await reviewer.ReviewAsync(images["img_1"])).GetProperty("notes").EnumerateArray());
    }

    [Fact]
    public async Task An_admin_edits_a_guide_note_in_place_and_bad_edits_and_other_roles_are_refused()
    {
        using var admin = App.Admin();
        var note = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Chihuahua, body = "Small." })).JsonAsync();
        var id = note.GetProperty("id").GetInt64();
        await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = Tench, body = "A fish." });
        const string Stored = "select wnid || '|' || coalesce(other_wnid, '-') || '|' || body from guide_notes where id = @id";

        // The same note (same id) becomes a pair note with a new text; the pair is stored in wnid order. (A pair no other
        // test of this class writes: the notes test leaves Chihuahua vs shih-tzu behind, and the order is random.)
        var edited = await (await admin.PutAsJsonAsync($"/api/guide-notes/{id}", new { wnid = Chihuahua, otherWnid = Goldfish, body = "Coat length." })).JsonAsync();
        Assert.Equal(id, edited.GetProperty("id").GetInt64());
        Assert.Equal($"{Goldfish}|{Chihuahua}|Coat length.", await App.ScalarAsync<string>(Stored, new { id }));

        // Bad input is 422 with the field; the class or pair of another note is 409; a missing note 404; nothing changes.
        var invalid = await (await admin.PutAsJsonAsync($"/api/guide-notes/{id}", new { wnid = "dog", body = "" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(invalid.HasFieldError("wnid"), invalid.ToString());
        Assert.True(invalid.HasFieldError("body"), invalid.ToString());
        await (await admin.PutAsJsonAsync($"/api/guide-notes/{id}", new { wnid = "n00000001", body = "x" })).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.PutAsJsonAsync($"/api/guide-notes/{id}", new { wnid = Tench, body = "x" })).ProblemAsync(HttpStatusCode.Conflict);
        await (await admin.PutAsJsonAsync("/api/guide-notes/999999999", new { wnid = Tench, body = "x" })).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal($"{Goldfish}|{Chihuahua}|Coat length.", await App.ScalarAsync<string>(Stored, new { id }));

        // Reviewers read notes but neither edit nor delete them.
        using var reviewer = await App.UserAsync("guide-edit-reviewer", "reviewer");
        await (await reviewer.PutAsJsonAsync($"/api/guide-notes/{id}", new { wnid = Tench, body = "x" })).ProblemAsync(HttpStatusCode.Forbidden);
        await (await reviewer.DeleteAsync($"/api/guide-notes/{id}")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal($"{Goldfish}|{Chihuahua}|Coat length.", await App.ScalarAsync<string>(Stored, new { id }));
    }
}
