using System.Net;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Security;

/// <summary>
/// SQL injection in every string parameter and filter of the GET endpoints answers exactly as a harmless unknown
/// value does (404, 422 or an empty list), never a 500, and leaves the tables intact.
/// </summary>
public sealed class SqlInjectionTests(ApiFixture fixture, ITestOutputHelper output) : IClassFixture<ApiFixture>
{
    private const string Harmless = "no-such-value-7";

    private static readonly string[] Payloads =
    [
        "' or 1=1 --", "'; drop table images; --", "\" or \"\"=\"", "1) or (1=1", "%' or '%'='", "' union select null, version() --",
        "'; select pg_sleep(5); --", "\\'; truncate users; --", "x' and 1=cast((select string_agg(token_hash, ',') from api_tokens) as int) --",
    ];

    /// <summary>Every GET with a string in its path or query; {x} is where the value goes.</summary>
    private static readonly string[] Templates =
    [
        "/api/datasets/{x}", "/api/datasets/{x}/classes", "/api/datasets/sqli/classes?subset={x}", "/api/datasets/{x}/subsets",
        "/api/images?dataset={x}", "/api/images?dataset=sqli&wnid={x}", "/api/images?dataset=sqli&subset={x}", "/api/images?dataset=sqli&cursor={x}",
        "/api/models?kind={x}", "/api/models?tag={x}", "/api/models/{x}", "/api/models/{x}/predictions", "/api/models/{x}/predictions/sqli",
        "/api/models/sqli-model/predictions/{x}", "/api/models/sqli-model/predictions/sqli?format={x}",
        "/api/models/sqli-model/predictions/sqli?labels={x}", "/api/models/{x}/uploads",
        "/api/leaderboard?dataset={x}", "/api/leaderboard?dataset=sqli&subset={x}", "/api/leaderboard?dataset=sqli&metric={x}",
        "/api/leaderboard?dataset=sqli&average={x}", "/api/leaderboard?dataset=sqli&unclear={x}", "/api/leaderboard?dataset=sqli&format={x}",
        "/api/models/{x}/results", "/api/models/sqli-model/results?dataset={x}", "/api/models/sqli-model/results?unclear={x}",
        "/api/analysis/hard-images?dataset={x}", "/api/analysis/hard-images?dataset=sqli&by={x}", "/api/analysis/hard-images?dataset=sqli&unclear={x}",
        "/api/synsets?q={x}", "/api/synsets?q=tench&dataset={x}", "/api/synsets/{x}", "/api/synsets/n01440764?dataset={x}",
        "/api/guide-notes?wnid={x}", "/api/review/next?dataset={x}", "/api/review/next?dataset=sqli&subset={x}",
        "/api/review/next?dataset=sqli&wnid={x}", "/api/review/next?dataset=sqli&mode={x}", "/api/review/progress?dataset={x}",
        "/api/datasets/{x}/aggregation", "/api/datasets/{x}/export/multilabel", "/api/datasets/{x}/export/real",
    ];

    [Fact]
    public async Task Injected_SQL_in_every_GET_parameter_answers_like_an_unknown_value_and_changes_nothing()
    {
        using var admin = fixture.App.Admin();
        await PredictionData.CreateDatasetAsync(admin, "sqli", images: 5);
        await PredictionData.CreateModelAsync(admin, "sqli-model");
        Assert.Equal(HttpStatusCode.OK, (await PredictionData.PutAsync(admin, "sqli-model", "sqli",
            PredictionData.Body(PredictionData.Json(PredictionData.Rows(5, 1)), "application/json"))).StatusCode);
        var before = await CountsAsync();

        var failures = new List<string>();
        var requests = 0;
        foreach (var template in Templates)
        {
            var reference = await admin.GetAsync(template.Replace("{x}", Harmless));
            var referenceBody = await reference.Content.ReadAsStringAsync();
            foreach (var payload in Payloads)
            {
                requests++;
                var response = await admin.GetAsync(template.Replace("{x}", Uri.EscapeDataString(payload)));
                var body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode >= 500 || response.StatusCode != reference.StatusCode)
                    failures.Add($"{template} with {payload}: {(int)response.StatusCode} (unknown value: {(int)reference.StatusCode}) {body[..Math.Min(200, body.Length)]}");
                else if (response.StatusCode == HttpStatusCode.OK && body != referenceBody)
                    failures.Add($"{template} with {payload}: 200 but a different answer than for an unknown value: {body[..Math.Min(200, body.Length)]}");
            }
        }
        output.WriteLine($"{requests} requests on {Templates.Length} parameters, {failures.Count} differences");
        foreach (var failure in failures) output.WriteLine(failure);
        Assert.Empty(failures);
        Assert.Equal(before, await CountsAsync());
    }

    private async Task<Dictionary<string, long>> CountsAsync()
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in new[] { "images", "users", "api_tokens", "models", "predictions", "datasets", "synsets", "label_space_classes" })
            counts[table] = await connection.ExecuteScalarAsync<long>($"select count(*) from {table}");
        return counts;
    }
}
