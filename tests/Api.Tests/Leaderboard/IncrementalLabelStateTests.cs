using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Relabel.Api.Features.Labels;
using Relabel.Api.Features.Leaderboard;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// A process that carries its label state from version to version (reading only the items and flags of the events of
/// the versions since, migration 0021) serves the same board as a process that reads the whole label state, after
/// every step of a random sequence of reviewers' verdicts and flags, adjudications through the other process, consensus
/// rule changes and uploads.
/// </summary>
public sealed class IncrementalLabelStateTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02085782", "n03000134", "n04592741"];
    private const int Images = 50;

    private static async Task<string> RowsAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/leaderboard?dataset=live&wait=true");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var board = await response.JsonAsync();
        return board.GetProperty("labelVersion").GetInt64() + " " + board.GetProperty("rows").GetRawText() + " " + board.GetProperty("scope").GetRawText();
    }

    /// <summary>Appends through the Labels module, as the review submit does in any process.</summary>
    private static async Task AppendAsync(NpgsqlDataSource db, long datasetId, long reviewerId, IReadOnlyList<NewVerdict> verdicts, IReadOnlyList<NewFlag> flags)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var head = await DatasetHeads.LockAsync(connection, transaction, datasetId, HeadLock.KeyShare);
        await LabelWriter.AppendAsync(connection, transaction, datasetId, head!.ConsensusRule, LabelAuthor.Reviewer(reviewerId), verdicts, flags);
        await transaction.CommitAsync();
    }

    [Fact]
    public async Task After_every_step_the_board_of_the_carried_label_state_equals_one_read_whole()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "live", Classes);
        var random = new Random(21);
        var original = Enumerable.Range(0, Images).Select(_ => (short)random.Next(Classes.Length)).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/live/images/manifest",
            new StringContent(string.Concat(original.Select((c, i) => $"live_{i:D3}.jpg,{Classes[c]}\n")), Encoding.UTF8, "text/csv"))).StatusCode);
        var seed = new ScoringSeed(fixture.App.Db);
        var images = await seed.ImageIdsAsync("live");
        var datasetId = await seed.DatasetIdAsync("live");
        var models = new[] { ("l-a", "model"), ("l-b", "model"), ("l-c", "model-extra-data"), ("l-h", "human"), ("l-i", "human") };
        async Task UploadAsync(string slug, string kind)
        {
            var rows = new List<(long, short[])>();
            for (var i = 0; i < Images; i++)
            {
                var labels = Enumerable.Range(0, Classes.Length).OrderBy(_ => random.Next()).Take(5).Select(c => (short)c).ToArray();
                if (kind != "human" || random.NextDouble() < 0.7) rows.Add((images[i], labels));
            }
            await seed.PredictionsAsync("live", slug, kind, 5, rows);
        }
        foreach (var (slug, kind) in models) await UploadAsync(slug, kind);

        // Every (image, class) pair is an item, pending until a verdict decides it.
        long[] reviewers;
        Dictionary<(long, string), long> items;
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "insert into review_items (image_id, wnid) select i, w from unnest(@images) i, unnest(@Classes) w on conflict do nothing",
                new { images, Classes });
            items = (await connection.QueryAsync<(long Id, long ImageId, string Wnid)>(
                "select id, image_id, wnid from review_items where image_id = any(@images)", new { images })).ToDictionary(r => (r.ImageId, r.Wnid), r => r.Id);
            reviewers = (await connection.QueryAsync<long>(
                """
                insert into users (name, roles) select 'live-r' || n, array['reviewer'] from generate_series(1, 3) n
                on conflict (name) do update set name = excluded.name returning id
                """)).ToArray();
        }

        await using var second = new RelabelApp(fixture.App.Database);
        using var secondAdmin = second.Admin();
        using var incremental = fixture.App.Anonymous();
        using var whole = second.Anonymous();
        var wholeService = second.Services.GetRequiredService<LeaderboardService>();
        var store = fixture.App.Services.GetRequiredService<ScoringStore>();
        var kinds = new List<string>();
        Assert.Equal(await RowsAsync(whole), await RowsAsync(incremental));
        for (var step = 0; step < 40; step++)
        {
            var what = random.NextDouble();
            var db = random.Next(2) == 0 ? fixture.App.Db : second.Db;
            if (what < 0.55)
            {
                kinds.Add("verdicts");
                var verdicts = Enumerable.Range(0, random.Next(1, 5))
                    .Select(_ => items[(images[random.Next(Images)], Classes[random.Next(Classes.Length)])]).Distinct()
                    .Select(item => new NewVerdict(item, new[] { "correct", "wrong", "unclear", "unreviewed" }[random.Next(4)], "", false)).ToList();
                await AppendAsync(db, datasetId, reviewers[random.Next(reviewers.Length)], verdicts, []);
            }
            else if (what < 0.7)
            {
                kinds.Add("flags");
                var flags = Enumerable.Range(0, random.Next(1, 3)).Select(_ => images[random.Next(Images)]).Distinct()
                    .Select(image => random.NextDouble() < 0.6 ? new NewFlag(image, true, "other", "test") : new NewFlag(image, false, null, "")).ToList();
                await AppendAsync(db, datasetId, reviewers[random.Next(reviewers.Length)], [], flags);
            }
            else if (what < 0.8)
            {
                kinds.Add("adjudication");
                var item = items[(images[random.Next(Images)], Classes[random.Next(Classes.Length)])];
                int version;
                await using (var connection = await fixture.App.Db.OpenConnectionAsync())
                    version = await connection.ExecuteScalarAsync<int>("select version from review_items where id = @item", new { item });
                var response = await secondAdmin.PostAsJsonAsync($"/api/review/items/{item}/adjudicate",
                    new { verdict = new[] { "correct", "wrong", "unclear" }[random.Next(3)], version });
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            }
            else if (what < 0.9)
            {
                kinds.Add("rule");
                var rule = new[] { "majority", "latest", "agreement:2" }[random.Next(3)];
                Assert.Equal(HttpStatusCode.OK, (await secondAdmin.PutAsJsonAsync("/api/datasets/live/consensus", new { rule })).StatusCode);
            }
            else
            {
                kinds.Add("upload");
                var (slug, kind) = models[random.Next(models.Length)];
                await UploadAsync(slug, kind);
            }
            var carried = await RowsAsync(incremental);
            wholeService.Clear();
            wholeService.Store.ForgetLabels();
            Assert.Equal(await RowsAsync(whole), carried);
        }
        foreach (var kind in new[] { "verdicts", "flags", "adjudication", "rule", "upload" }) Assert.Contains(kind, kinds);

        // The carried state did advance by the versions' events (it was not read whole at each step).
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
            Assert.True(await connection.ExecuteScalarAsync<long>(
                "select count(*) from label_version_changes where dataset_id = @datasetId", new { datasetId }) > 10);
    }

    [Fact]
    public async Task The_whole_read_takes_a_datasets_own_items_when_another_datasets_images_lie_between_its_own()
    {
        // The whole read selects review items by the range of the dataset's image ids (no join with images): images of
        // two datasets registered in turns interleave, and each board must count its own items only.
        using var admin = fixture.App.Admin();
        foreach (var slug in new[] { "turns-a", "turns-b" }) await TestData.CreateDatasetAsync(admin, slug, Classes);
        for (var i = 0; i < 8; i++)
            foreach (var slug in new[] { "turns-a", "turns-b" })
                Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/datasets/{slug}/images/manifest",
                    new StringContent($"{slug}_{i}.jpg,{Classes[i % Classes.Length]}\n", Encoding.UTF8, "text/csv"))).StatusCode);
        var seed = new ScoringSeed(fixture.App.Db);
        var (a, b) = (await seed.ImageIdsAsync("turns-a"), await seed.ImageIdsAsync("turns-b"));
        Assert.True(a.Min() < b.Min() && b.Min() < a.Max(), "the two datasets' image ids interleave");
        // One model predicts each image's original class; its item is correct on every other image of A, on every image of B.
        foreach (var (slug, ids) in new[] { ("turns-a", a), ("turns-b", b) })
            await seed.PredictionsAsync(slug, "turns-m", "model", 1, ids.Select((id, i) => (id, new[] { (short)(i % Classes.Length) })));
        await seed.ItemStatesAsync("turns-a", a.Select((id, i) => (id, Classes[i % Classes.Length], i % 2 == 0 ? "correct" : "wrong")));
        await seed.ItemStatesAsync("turns-b", b.Select((id, i) => (id, Classes[i % Classes.Length], "correct")));
        var service = fixture.App.Services.GetRequiredService<LeaderboardService>();
        service.Clear();
        service.Store.ForgetLabels();
        using var anonymous = fixture.App.Anonymous();
        foreach (var (slug, correct) in new[] { ("turns-a", 4), ("turns-b", 8) })
        {
            var board = await (await anonymous.GetAsync($"/api/leaderboard?dataset={slug}&wait=true")).JsonAsync();
            var row = board.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == "turns-m");
            Assert.Equal((correct, 8), (row.GetProperty("multiLabel").GetProperty("correct").GetInt32(), row.GetProperty("multiLabel").GetProperty("total").GetInt32()));
        }
    }
}
