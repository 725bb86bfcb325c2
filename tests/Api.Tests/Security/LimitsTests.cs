using System.Net;
using System.Text;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;

namespace Relabel.Api.Tests.Security;

/// <summary>Small limits, so that exceeding each one is cheap.</summary>
public sealed class LimitsFixture : ApiFixture
{
    public const int Bytes = 64 * 1024;
    public const int Rows = 3;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Relabel:MaxPredictionBytes"] = Bytes.ToString(),
        ["Relabel:MaxManifestBytes"] = Bytes.ToString(),
        ["Relabel:MaxImportBytes"] = Bytes.ToString(),
        ["Relabel:MaxRowsPerUpload"] = Rows.ToString(),
    };
}

/// <summary>Every limit, exceeded: a clear 4xx problem+json naming what was too much.</summary>
public sealed class LimitsTests(LimitsFixture fixture) : IClassFixture<LimitsFixture>, IAsyncLifetime
{
    private static readonly string Oversized = new('x', LimitsFixture.Bytes + 1);

    public async Task InitializeAsync()
    {
        using var admin = fixture.App.Admin();
        if ((await admin.GetAsync("/api/datasets/limits")).StatusCode == HttpStatusCode.OK) return;
        await PredictionData.CreateDatasetAsync(admin, "limits", images: 6);
        await PredictionData.CreateModelAsync(admin, "limits-model");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    public static TheoryData<string, string, string, string, string, int, string> Cases => new()
    {
        // name, method, path, content type, body, status, words the title or detail contains
        { "prediction body", "PUT", "/api/models/limits-model/predictions/limits", "text/csv", Oversized, 413, "too large" },
        { "rows per upload", "PUT", "/api/models/limits-model/predictions/limits?partial=true", "text/csv",
            "image,label1\n" + string.Join("\n", Enumerable.Range(0, 4).Select(i => $"{PredictionData.Image(i)},{PredictionData.Classes[0]}")), 413, "rows" },
        { "manifest body", "POST", "/api/datasets/limits/images/manifest", "text/csv", Oversized, 413, "too large" },
        { "multi-label import body", "POST", "/api/datasets/limits/import/multilabel", "application/json", Oversized, 413, "too large" },
        { "rater votes body", "POST", "/api/datasets/limits/import/rater-votes", "text/csv", Oversized, 413, "too large" },
        { "class list body", "PUT", "/api/datasets/limits/classes", "text/plain", Oversized, 413, "too large" },
        { "request JSON depth", "POST", "/api/models", "application/json", Nested(100), 400, "depth" },
        { "multi-label JSON depth", "POST", "/api/datasets/limits/import/multilabel", "application/json", Nested(40), 422, "depth" },
        { "images limit", "GET", "/api/images?dataset=limits&limit=501", "", "", 422, "limit" },
        { "images limit zero", "GET", "/api/images?dataset=limits&limit=0", "", "", 422, "limit" },
        { "synsets limit", "GET", "/api/synsets?q=dog&limit=101", "", "", 422, "limit" },
        { "model results limit", "GET", "/api/models/limits-model/results?limit=100000000", "", "", 422, "limit" },
        { "hard images limit", "GET", "/api/analysis/hard-images?limit=100000000", "", "", 422, "limit" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task An_exceeded_limit_is_a_clear_4xx_problem(string name, string method, string path, string contentType, string body, int status, string words)
    {
        using var admin = fixture.App.Admin();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType.Length > 0)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        var response = await admin.SendAsync(request);
        var problem = await response.ProblemAsync((HttpStatusCode)status);
        var text = (problem.GetProperty("title").GetString() + " " + (problem.TryGetProperty("detail", out var d) ? d.GetString() : "") + " " +
                    (problem.TryGetProperty("errors", out var e) ? e.ToString() : "")).ToLowerInvariant();
        Assert.True(text.Contains(words), $"{name}: the problem does not say '{words}': {text}");
        // Every input error has one shape: errors [{line, field, message}].
        if (status == 422)
        {
            var errors = problem.GetProperty("errors").EnumerateArray().ToList();
            Assert.NotEmpty(errors);
            Assert.All(errors, error =>
            {
                Assert.Equal(JsonValueKind.Number, error.GetProperty("line").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("field").ValueKind);
                Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()), name);
            });
        }
    }
}
