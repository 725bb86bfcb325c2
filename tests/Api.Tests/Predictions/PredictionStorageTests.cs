using System.Globalization;
using System.Net;
using System.Text;
using Dapper;
using Npgsql;
using Relabel.Api.Infrastructure;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Predictions;

/// <summary>Prediction sets stored packed (migration 0020): what goes in comes out, and old rows are converted.</summary>
public sealed class PredictionStorageTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    /// <summary>
    /// The canonical CSV (class indices, rows by image, trailing cells empty) of a random partial set: k labels or fewer
    /// per row, with scores on most rows or on none. 300 images span three blocks of 128 image ids.
    /// </summary>
    private static (string Header, List<(int Image, string Line)> Rows) RandomSet(int k, bool scores, int images, int seed)
    {
        var random = new Random(seed);
        var header = new StringBuilder("image");
        for (var j = 1; j <= k; j++) header.Append(",label").Append(j);
        if (scores) for (var j = 1; j <= k; j++) header.Append(",score").Append(j);
        var rows = new List<(int, string)>();
        for (var i = 0; i < images; i++)
        {
            if (random.NextDouble() < 0.2) continue;
            var count = random.NextDouble() < 0.25 ? random.Next(1, k + 1) : k;
            var labels = Enumerable.Range(0, Classes.Length).OrderBy(_ => random.Next()).Take(count).ToArray();
            var line = new StringBuilder(Image(i));
            for (var j = 0; j < k; j++) line.Append(',').Append(j < count ? labels[j].ToString(CultureInfo.InvariantCulture) : "");
            if (scores)
            {
                var scored = random.NextDouble() < 0.8;
                for (var j = 0; j < k; j++)
                    line.Append(',').Append(scored && j < count ? ((float)(random.NextDouble() * 2 - 0.5)).ToString("R", CultureInfo.InvariantCulture) : "");
            }
            rows.Add((i, line.ToString()));
        }
        return (header.ToString(), rows);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    [InlineData(5, true)]
    public async Task A_set_uploaded_in_any_order_downloads_byte_for_byte_in_canonical_form(int k, bool scores)
    {
        var name = $"store-{k}-{(scores ? "s" : "n")}";
        using var admin = App.Admin();
        await CreateDatasetAsync(admin, name, images: 300);
        var owner = await App.UserAsync(name + "-owner", "uploader");
        await CreateModelAsync(owner, name);
        var (header, rows) = RandomSet(k, scores, 300, seed: k * 10 + (scores ? 1 : 0));
        var shuffled = rows.OrderBy(_ => Random.Shared.Next()).Select(r => r.Line);
        var body = header + "\n" + string.Join("\n", shuffled) + "\n";

        var response = await PutAsync(owner, name, name, Body(body, "text/csv"), "?labels=index&partial=true");
        var result = await response.JsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, result.ToString());
        Assert.Equal(rows.Count, result.GetProperty("images").GetInt32());

        var canonical = header + "\n" + string.Concat(rows.Select(r => r.Line + "\n"));
        Assert.Equal(canonical, await owner.GetStringAsync($"/api/models/{name}/predictions/{name}?format=csv&labels=index"));

        // The same content again is a no-op; an image deleted later drops out of the set (and of the download).
        var again = await (await PutAsync(owner, name, name, Body(body, "text/csv"), "?labels=index&partial=true")).JsonAsync();
        Assert.Equal("unchanged", again.GetProperty("outcome").GetString());
        await App.FollowupsDoneAsync();
        var deleted = rows[rows.Count / 2];
        await using (var connection = await App.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                "delete from images i using datasets d where d.id = i.dataset_id and d.slug = @name and i.file_name = @file",
                new { name, file = Image(deleted.Image) });
        var remaining = header + "\n" + string.Concat(rows.Where(r => r.Image != deleted.Image).Select(r => r.Line + "\n"));
        Assert.Equal(remaining, await owner.GetStringAsync($"/api/models/{name}/predictions/{name}?format=csv&labels=index"));
    }

    [Fact]
    public async Task A_set_takes_a_few_blocks_and_one_image_is_read_from_its_block()
    {
        const string name = "store-blocks";
        using var admin = App.Admin();
        await CreateDatasetAsync(admin, name, images: 300);
        var owner = await App.UserAsync(name + "-owner", "uploader");
        await CreateModelAsync(owner, name);
        var response = await PutAsync(owner, name, name, Body(Json(Rows(300, 5, scores: true)), "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var upload = (await response.JsonAsync()).GetProperty("uploadId").GetInt64();

        await using var connection = await App.Db.OpenConnectionAsync();
        var blocks = await connection.ExecuteScalarAsync<long>("select count(*) from prediction_blocks where upload_id = @upload", new { upload });
        Assert.InRange(blocks, 3, 4);
        // Every row the view unpacks is the one prediction_at reads for its image.
        var rows = (await connection.QueryAsync<(long ImageId, short[] Labels, float[] Scores)>(
            "select image_id, labels, scores from predictions where upload_id = @upload order by image_id", new { upload })).ToList();
        Assert.Equal(300, rows.Count);
        foreach (var row in rows.Where((_, i) => i % 37 == 0))
        {
            var (labels, scores) = await connection.QuerySingleAsync<(short[], float[])>(
                "select labels, scores from prediction_at(@upload, @ImageId)", new { upload, row.ImageId });
            Assert.Equal(row.Labels, labels);
            Assert.Equal(row.Scores, scores);
        }
        Assert.Empty(await connection.QueryAsync<short[]>("select labels from prediction_at(@upload, 0)", new { upload }));
    }

    /// <summary>
    /// Migration 0020 on a database holding rows of the old table: migrated to 0019 by hand, filled, then 0020 applied
    /// as the API applies it. Every row reads back the same from the view, including scores, shorter rows and gaps.
    /// </summary>
    [Fact]
    public async Task Migration_0020_converts_the_old_rows()
    {
        var database = "relabel_m_" + Guid.NewGuid().ToString("N")[..16];
        await TestDatabase.CreateEmptyAsync(database);
        try
        {
            await using var db = NpgsqlDataSource.Create(TestDatabase.ConnectionString(database));
            await using var connection = await db.OpenConnectionAsync();
            var assembly = typeof(Database).Assembly;
            var scripts = Database.MigrationNames();
            string Script(string name)
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return reader.ReadToEnd();
            }
            foreach (var script in scripts.Where(s => string.CompareOrdinal(s.Split(".Migrations.")[1], "0020") < 0))
                await connection.ExecuteAsync(Script(script));

            await connection.ExecuteAsync(
                """
                insert into synsets (wnid, lemmas, gloss) select 'n0000000' || i, array['c' || i], '' from generate_series(0, 5) i;
                insert into label_spaces default values;
                insert into label_space_classes (label_space_id, class_index, wnid)
                select (select id from label_spaces), i, 'n0000000' || i from generate_series(0, 5) i;
                insert into users (name, roles) values ('owner', '{uploader}');
                insert into datasets (slug, name, label_space_id) values ('old', 'Old', (select id from label_spaces));
                insert into images (dataset_id, file_name, original_wnid)
                select (select id from datasets), 'img_' || i, 'n0000000' || (i % 6) from generate_series(0, 399) i;
                insert into models (slug, display_name, kind, owner_id) select 'm' || i, 'M' || i, 'model', (select id from users) from generate_series(1, 2) i;
                insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
                select m.id, d.id, m.owner_id, 'csv', 0, 3, true, repeat('0', 64), 'applied', 0 from models m, datasets d order by m.id;
                """);
            var uploads = (await connection.QueryAsync<long>("select id from prediction_uploads order by id")).ToArray();
            var images = (await connection.QueryAsync<long>("select id from images order by id")).ToArray();
            var random = new Random(20);
            var old = new List<(long Upload, long Image, short[] Labels, float[]? Scores)>();
            foreach (var upload in uploads)
                foreach (var image in images.Where(_ => random.NextDouble() < 0.7))
                {
                    var count = random.Next(1, 4);
                    var labels = Enumerable.Range(0, 6).OrderBy(_ => random.Next()).Take(count).Select(l => (short)l).ToArray();
                    var scores = upload == uploads[1] && random.NextDouble() < 0.6
                        ? labels.Select(_ => (float)random.NextDouble()).ToArray() : null;
                    old.Add((upload, image, labels, scores));
                }
            await connection.ExecuteAsync(
                "insert into predictions (upload_id, image_id, labels, scores) values (@Upload, @Image, @Labels, @Scores)",
                old.Select(r => new { r.Upload, r.Image, r.Labels, r.Scores }));

            var migration = scripts.Single(s => s.Split(".Migrations.")[1].StartsWith("0020", StringComparison.Ordinal));
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await connection.ExecuteAsync(Script(migration), transaction: transaction);
                await transaction.CommitAsync();
            }

            static string Text(long upload, long image, short[] labels, float[]? scores) =>
                $"{upload}/{image}:{string.Join(' ', labels)}:{(scores is null ? "-" : string.Join(' ', scores.Select(s => s.ToString("R", CultureInfo.InvariantCulture))))}";
            var expected = old.OrderBy(r => r.Upload).ThenBy(r => r.Image).Select(r => Text(r.Upload, r.Image, r.Labels, r.Scores)).ToList();
            var converted = (await connection.QueryAsync<(long Upload, long Image, short[] Labels, float[]? Scores)>(
                "select upload_id, image_id, labels, scores from predictions order by upload_id, image_id"))
                .Select(r => Text(r.Upload, r.Image, r.Labels, r.Scores)).ToList();
            Assert.Equal(expected, converted);
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from prediction_blocks where upload_id = @u and scores is not null", new { u = uploads[0] }));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(database);
        }
    }
}
