using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Relabel.Api.Features.Images;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Images;

public sealed class ImagesTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static MultipartFormDataContent Form(params (string FileName, byte[] Bytes, string Label)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (fileName, bytes, label) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", fileName);
            form.Add(new StringContent(label), "label");
        }
        return form;
    }

    [Fact]
    public async Task Uploaded_images_are_stored_by_content_and_served_with_safe_headers()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "upload", ["n01440764", "n02085620"]);
        var response = await admin.PostAsync("/api/datasets/upload/images",
            Form(("a.png", TestData.Png(32, 24), "n01440764"), ("b.jpg", TestData.Jpeg(640, 480), "1")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(2, body.GetProperty("created").GetInt32());
        var images = body.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("fileName").GetString()!);
        Assert.Equal("image/png", images["a.png"].GetProperty("mediaType").GetString());
        Assert.Equal(32, images["a.png"].GetProperty("width").GetInt32());
        Assert.Equal(24, images["a.png"].GetProperty("height").GetInt32());
        Assert.Equal("image/jpeg", images["b.jpg"].GetProperty("mediaType").GetString());
        Assert.Equal(640, images["b.jpg"].GetProperty("width").GetInt32());
        Assert.Equal("n02085620", images["b.jpg"].GetProperty("originalWnid").GetString());

        var id = images["a.png"].GetProperty("id").GetInt64();
        var file = await admin.GetAsync($"/api/images/{id}/file");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("image/png", file.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TestData.Png(32, 24), await file.Content.ReadAsByteArrayAsync());
        Assert.Equal("nosniff", file.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("default-src 'none'", file.Headers.GetValues("Content-Security-Policy").Single());
        var etag = file.Headers.ETag!;

        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/api/images/{id}/file");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await admin.SendAsync(conditional)).StatusCode);

        // ImageNet's terms: not for anonymous callers unless the dataset is public.
        await (await fixture.App.Anonymous().GetAsync($"/api/images/{id}/file")).ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Files_that_are_not_JPEG_PNG_or_WebP_are_refused_whatever_their_name()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "refuse", ["n01440764"]);
        var svg = Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>");
        var response = await admin.PostAsync("/api/datasets/refuse/images",
            Form(("ok.png", TestData.Png(1, 1), "0"), ("evil.png", svg, "0"), ("x.jpg", [1, 2, 3], "0"), ("fish.png", TestData.Png(1, 1), "n99")));
        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var fields = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()).ToList();
        Assert.Equal(["evil.png", "x.jpg", "fish.png"], fields);
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>(
            "select count(*) from images i join datasets d on d.id = i.dataset_id where d.slug = 'refuse'"));
    }

    [Fact]
    public void Sniffing_reads_webp_sizes_and_rejects_svg()
    {
        var vp8x = new byte[30];
        "RIFF"u8.CopyTo(vp8x); "WEBP"u8.CopyTo(vp8x.AsSpan(8)); "VP8X"u8.CopyTo(vp8x.AsSpan(12));
        vp8x[24] = 99; vp8x[27] = 49; // width-1 = 99, height-1 = 49
        Assert.Equal(new SniffedImage("image/webp", 100, 50), ImageSniffer.Sniff(vp8x));
        Assert.Null(ImageSniffer.Sniff("<svg></svg>"u8));
        Assert.Null(ImageSniffer.Sniff([]));
    }

    [Fact]
    public async Task Image_lists_page_by_keyset_and_filter_by_class_and_subset()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "listing", ["n01440764", "n02085620"]);
        var csv = string.Join("\n", Enumerable.Range(1, 25).Select(i => $"img_{i:D3}.JPEG,{(i % 5 == 0 ? "n02085620" : "0")}"));
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/listing/images/manifest", new StringContent(csv, Encoding.UTF8, "text/csv"))).StatusCode);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await (await admin.GetAsync($"/api/images?dataset=listing&limit=10{(cursor is null ? "" : "&cursor=" + cursor)}")).JsonAsync();
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("fileName").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);
        Assert.Equal(Enumerable.Range(1, 25).Select(i => $"img_{i:D3}.JPEG"), seen);

        var dogs = await (await admin.GetAsync("/api/images?dataset=listing&subset=dogs")).JsonAsync();
        Assert.Equal(5, dogs.GetProperty("items").GetArrayLength());
        var tench = await (await admin.GetAsync("/api/images?dataset=listing&wnid=n01440764")).JsonAsync();
        Assert.Equal(20, tench.GetProperty("items").GetArrayLength());
        Assert.False(tench.GetProperty("items")[0].GetProperty("hasFile").GetBoolean());
        await (await admin.GetAsync("/api/images?dataset=listing&limit=501")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.GetAsync("/api/images?dataset=listing&cursor=x")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await admin.GetAsync("/api/images?dataset=listing&subset=nope")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Image_uploads_need_the_admin_role()
    {
        using var uploader = await fixture.App.UserAsync("images-uploader", "uploader");
        await (await uploader.PostAsync("/api/datasets/x/images", Form(("a.png", TestData.Png(1, 1), "0")))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await fixture.App.Anonymous().PostAsync("/api/datasets/x/images/manifest", new StringContent("a,0", Encoding.UTF8, "text/csv")))
            .ProblemAsync(HttpStatusCode.Unauthorized);
    }
}
