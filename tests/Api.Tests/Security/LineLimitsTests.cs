using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Security;

public sealed class LineLimitsFixture : ApiFixture
{
    public const int MaxLine = 1024;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Relabel:MaxLineBytes"] = MaxLine.ToString(),
    };
}

/// <summary>Line-oriented bodies (CSV, NDJSON) are read a bounded line at a time: a longer line is a 422 naming it.</summary>
public sealed class LineLimitsTests(LineLimitsFixture fixture, ITestOutputHelper output) : IClassFixture<LineLimitsFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        using var admin = fixture.App.Admin();
        if ((await admin.GetAsync("/api/datasets/lines")).StatusCode == HttpStatusCode.OK) return;
        await PredictionData.CreateDatasetAsync(admin, "lines", images: 6);
        await PredictionData.CreateModelAsync(admin, "lines-model");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly string Long = new('x', LineLimitsFixture.MaxLine + 1);

    public static TheoryData<string, string, string, string, bool> Cases => new()
    {
        // name, path, content type, body (its third line is too long), gzip
        { "prediction CSV", "/api/models/lines-model/predictions/lines?partial=true", "text/csv",
            $"image,label1\n{PredictionData.Image(0)},0\n{Long},0\n", false },
        { "prediction CSV, gzip", "/api/models/lines-model/predictions/lines?partial=true", "text/csv",
            $"image,label1\n{PredictionData.Image(0)},0\n{Long},0\n", true },
        { "prediction NDJSON", "/api/models/lines-model/predictions/lines?partial=true", "application/x-ndjson",
            $"{{\"image\":\"{PredictionData.Image(0)}\",\"labels\":[\"{PredictionData.Classes[0]}\"]}}\n\n{{\"image\":\"{Long}\",\"labels\":[]}}\n", false },
        { "rater votes", "/api/datasets/lines/import/rater-votes", "text/csv",
            $"file_name,wnid,rater,answer\n{PredictionData.Image(0)},{PredictionData.Classes[0]},r1,yes\n{Long},x,r1,yes\n", false },
        { "image manifest", "/api/datasets/lines/images/manifest", "text/csv", $"file_name,label\nmore.JPEG,0\n{Long},0\n", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_line_over_the_limit_is_a_422_that_names_it_and_nothing_is_written(string name, string path, string contentType, string body, bool gzip)
    {
        using var admin = fixture.App.Admin();
        var method = path.Contains("/predictions/") ? HttpMethod.Put : HttpMethod.Post;
        using var request = new HttpRequestMessage(method, path) { Content = PredictionData.Body(body, contentType, gzip) };
        var problem = await (await admin.SendAsync(request)).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var error = problem.GetProperty("errors")[0];
        Assert.True(error.GetProperty("line").GetInt64() == 3, $"{name}: {problem}");
        Assert.Contains($"longer than {LineLimitsFixture.MaxLine} bytes", error.GetProperty("message").GetString());
        Assert.Equal(0, await PredictionData.CountAsync(fixture.App,
            "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = 'lines-model'"));
        Assert.Equal(6, await PredictionData.CountAsync(fixture.App,
            "select count(*) from images i join datasets d on d.id = i.dataset_id where d.slug = 'lines'"));
    }

    /// <summary>A gzip body of the given members (a gzip stream may be several concatenated ones).</summary>
    private static ByteArrayContent Gzip(byte[] head, int megabytesOfA, string contentType)
    {
        static byte[] Member(byte[] data)
        {
            using var buffer = new MemoryStream();
            using (var zip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) zip.Write(data);
            return buffer.ToArray();
        }
        var block = Member(Enumerable.Repeat((byte)'a', 8 * 1024 * 1024).ToArray());
        using var body = new MemoryStream();
        body.Write(Member(head));
        for (var i = 0; i < megabytesOfA / 8; i++) body.Write(block);
        var content = new ByteArrayContent(body.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    [Fact]
    public async Task A_gzip_body_that_inflates_to_one_huge_line_is_refused_without_holding_it()
    {
        // Its own API process, with the default limits, so that its memory is its own.
        var database = await TestDatabase.CreateAsync();
        try
        {
            await using var api = await ApiProcess.StartAsync(database);
            using var admin = api.Admin();
            await PredictionData.CreateDatasetAsync(admin, "bomb", images: 6);
            await PredictionData.CreateModelAsync(admin, "bomb-model");
            var before = api.Memory().RssMb;

            // About 4 MB sent, 1 GiB once inflated, all of it one line (under the 2 GB that a 200 MB body may inflate to).
            foreach (var (contentType, head) in new[]
                     {
                         ("application/x-ndjson", "{\"image\":\""),
                         ("text/csv", "image,label1\n"),
                     })
            {
                var content = Gzip(Encoding.UTF8.GetBytes(head), 1024, contentType);
                output.WriteLine($"{contentType}: {content.Headers.ContentLength / 1e6:F1} MB sent");
                var response = await admin.PutAsync("/api/models/bomb-model/predictions/bomb", content);
                var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
                Assert.Contains("longer than", problem.GetProperty("errors")[0].GetProperty("message").GetString());
            }
            var (rss, peak) = api.Memory();
            output.WriteLine($"RSS before {before:F0} MB, after {rss:F0} MB, peak {peak:F0} MB");
            Assert.True(peak < 400, $"The API's peak RSS reached {peak:F0} MB.");
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }
}
