using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Predictions;

/// <summary>Helpers for prediction tests: a small dataset with known images and classes, models, bodies.</summary>
public static class PredictionData
{
    /// <summary>The first five ILSVRC-2012 classes: tench, goldfish, great white shark, tiger shark, hammerhead.</summary>
    public static readonly string[] Classes = ["n01440764", "n01443537", "n01484850", "n01491361", "n01494475"];

    public static string Image(int i) => $"img_{i:D3}.JPEG";

    /// <summary>A dataset with <paramref name="images"/> images; image i has the original label Classes[i % 5].</summary>
    public static async Task CreateDatasetAsync(HttpClient admin, string slug, int images = 6)
    {
        await TestData.CreateDatasetAsync(admin, slug, Classes);
        var csv = string.Join("\n", Enumerable.Range(0, images).Select(i => $"{Image(i)},{Classes[i % Classes.Length]}"));
        var response = await admin.PostAsync($"/api/datasets/{slug}/images/manifest", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task CreateModelAsync(HttpClient owner, string slug, string kind = "model", string[]? tags = null)
    {
        var response = await owner.PostAsJsonAsync("/api/models", new { slug, displayName = slug.ToUpperInvariant(), kind, tags });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Rows (image index, class indices, scores) as a JSON document with wnids.</summary>
    public static string Json(IEnumerable<(int Image, int[] Labels, float[]? Scores)> rows) =>
        System.Text.Json.JsonSerializer.Serialize(new
        {
            predictions = rows.Select(r => r.Scores is null
                ? (object)new { image = Image(r.Image), labels = r.Labels.Select(l => Classes[l]) }
                : new { image = Image(r.Image), labels = r.Labels.Select(l => Classes[l]), scores = r.Scores }),
        });

    /// <summary>Every one of n images predicted with top-k labels starting at the class (i + shift) % 5.</summary>
    public static IEnumerable<(int Image, int[] Labels, float[]? Scores)> Rows(int images, int k, int shift = 0, bool scores = false) =>
        Enumerable.Range(0, images).Select(i => (i,
            Enumerable.Range(0, k).Select(j => (i + shift + j) % Classes.Length).ToArray(),
            scores ? Enumerable.Range(0, k).Select(j => 0.5f / (j + 1) + i / 1000f).ToArray() : (float[]?)null));

    public static HttpContent Body(string text, string contentType, bool gzip = false)
    {
        if (!gzip) return new StringContent(text, Encoding.UTF8, contentType);
        using var buffer = new MemoryStream();
        using (var zip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            zip.Write(Encoding.UTF8.GetBytes(text));
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    public static Task<HttpResponseMessage> PutAsync(HttpClient client, string model, string dataset, HttpContent body, string query = "") =>
        client.PutAsync($"/api/models/{model}/predictions/{dataset}{query}", body);

    /// <summary>The stored rows of the model's current set on the dataset: (file name, labels, scores) by image.</summary>
    public static async Task<List<string>> StoredAsync(RelabelApp app, string model, string dataset)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        var rows = await connection.QueryAsync<StoredRow>(
            """
            select i.file_name, p.labels, p.scores
            from prediction_sets s
            join models m on m.id = s.model_id
            join datasets d on d.id = s.dataset_id
            join predictions p on p.upload_id = s.upload_id
            join images i on i.id = p.image_id
            where m.slug = @model and d.slug = @dataset
            order by i.file_name
            """,
            new { model, dataset });
        return rows.Select(r => $"{r.FileName}:{string.Join(' ', r.Labels)}:{(r.Scores is null ? "-" : string.Join(' ', r.Scores))}").ToList();
    }

    private sealed record StoredRow
    {
        public required string FileName { get; init; }
        public required short[] Labels { get; init; }
        public required float[]? Scores { get; init; }
    }

    public static async Task<long> CountAsync(RelabelApp app, string sql, object? parameters = null)
    {
        await using var connection = await app.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }
}
