using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Relabel.Api.Features.Predictions;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Review;

/// <summary>
/// Review items as a prediction upload makes them: a model, an upload, its current prediction set, the predictions,
/// and an item for each image's original label and each top-1 label (on conflict do nothing). Written with SQL
/// until the upload endpoint exists.
/// </summary>
public static class ReviewTestData
{
    public static readonly string[] Classes = ["n01440764", "n01443537", "n02085620", "n02086240", "n02087394", "n02088466"];

    /// <summary>A dataset over <see cref="Classes"/> with images "img_1" … each labelled with the class given.</summary>
    public static async Task<Dictionary<string, long>> CreateDatasetAsync(RelabelApp app, string slug, params string[] labels)
    {
        using var admin = app.Admin();
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        var csv = string.Join("\n", labels.Select((wnid, i) => $"img_{i + 1},{wnid}"));
        var response = await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var connection = await app.Db.OpenConnectionAsync();
        return (await connection.QueryAsync<(string File, long Id)>(
            "select i.file_name, i.id from images i join datasets d on d.id = i.dataset_id where d.slug = @slug", new { slug }))
            .ToDictionary(r => r.File, r => r.Id);
    }

    /// <summary>A model's top-1 predictions (file name → wnid) on a dataset, and the review items they create.</summary>
    public static async Task AddPredictionsAsync(RelabelApp app, string slug, string model, IReadOnlyDictionary<string, string> top1)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (datasetId, labelSpaceId) = await connection.QuerySingleAsync<(long, long)>(
            "select id, label_space_id from datasets where slug = @slug", new { slug }, transaction);
        var modelId = await connection.ExecuteScalarAsync<long>(
            """
            insert into models (slug, display_name, kind, owner_id)
            values (@model, @model, 'model', (select id from users where name = 'admin'))
            returning id
            """,
            new { model }, transaction);
        var uploadId = await connection.ExecuteScalarAsync<long>(
            """
            insert into prediction_uploads (model_id, dataset_id, uploaded_by, format, rows, k, partial, checksum, outcome, elapsed_ms)
            values (@modelId, @datasetId, (select id from users where name = 'admin'), 'json', @rows, 1, false, repeat('0', 64), 'applied', 1)
            returning id
            """,
            new { modelId, datasetId, rows = top1.Count }, transaction);
        await connection.ExecuteAsync(
            "insert into prediction_sets (model_id, dataset_id, upload_id, k, rows, checksum) values (@modelId, @datasetId, @uploadId, 1, @rows, repeat('0', 64))",
            new { modelId, datasetId, uploadId, rows = top1.Count }, transaction);
        var rows = await connection.QueryAsync<(long ImageId, short ClassIndex)>(
            """
            select i.id, c.class_index::smallint
            from unnest(@files, @wnids) as t(file_name, wnid)
            join images i on i.dataset_id = @datasetId and i.file_name = t.file_name
            join label_space_classes c on c.label_space_id = @labelSpaceId and c.wnid = t.wnid
            order by i.id
            """,
            new { datasetId, labelSpaceId, files = top1.Keys.ToArray(), wnids = top1.Values.ToArray() }, transaction);
        await PredictionStore.CopyBlocksAsync(connection, uploadId, rows.Select(r => new PredictionRow(r.ImageId, [r.ClassIndex], null)).ToList(), default);
        await connection.ExecuteAsync(
            """
            insert into review_items (image_id, wnid)
            select i.id, w.wnid
            from predictions p
            join images i on i.id = p.image_id
            join label_space_classes c on c.label_space_id = @labelSpaceId and c.class_index = p.labels[1]
            cross join lateral (values (i.original_wnid), (c.wnid)) as w(wnid)
            where p.upload_id = @uploadId
            on conflict (image_id, wnid) do nothing
            """,
            new { uploadId, labelSpaceId }, transaction);
        await transaction.CommitAsync();
    }

    public static async Task<JsonElement> NextAsync(this HttpClient client, string query)
    {
        var response = await client.GetAsync("/api/review/next?" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"next: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.JsonAsync();
    }

    public static long ImageId(this JsonElement review) => review.GetProperty("image").GetProperty("id").GetInt64();

    public static JsonElement Label(this JsonElement review, string wnid) =>
        review.GetProperty("labels").EnumerateArray().Single(l => l.GetProperty("wnid").GetString() == wnid);

    /// <summary>Submits verdicts (wnid → verdict) at the versions the review shows.</summary>
    public static Task<HttpResponseMessage> SubmitAsync(this HttpClient client, JsonElement review, IReadOnlyDictionary<string, string> verdicts,
        object? flag = null, double seconds = 4)
    {
        var body = new
        {
            verdicts = verdicts.Select(v => new
            {
                itemId = review.Label(v.Key).GetProperty("itemId").GetInt64(),
                version = review.Label(v.Key).GetProperty("version").GetInt32(),
                verdict = v.Value,
            }).ToArray(),
            flag,
            secondsSpent = seconds,
        };
        return client.PostAsJsonAsync($"/api/review/images/{review.ImageId()}", body);
    }

    public static async Task<JsonElement> ReviewAsync(this HttpClient client, long imageId) =>
        await (await client.GetAsync($"/api/review/images/{imageId}")).JsonAsync();

    public static async Task<T> ScalarAsync<T>(this RelabelApp app, string sql, object? parameters = null)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public static async Task ExecuteAsync(this RelabelApp app, string sql, object? parameters = null)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, parameters);
    }
}
