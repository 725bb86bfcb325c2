using System.Net;
using System.Text;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

public sealed class VariantLimitFixture : ApiFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Relabel:BoardVariantBurst"] = "2",
        ["Relabel:BoardVariantsPerMinute"] = "1",
    };
}

/// <summary>A client that asks for many distinct alpha values is slowed down; the default board and the ones it had are not.</summary>
public sealed class VariantLimitTests(VariantLimitFixture fixture) : IClassFixture<VariantLimitFixture>
{
    [Fact]
    public async Task Distinct_alpha_values_are_limited_per_client_and_the_default_board_is_always_served()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "limits", ["n01440764", "n02085620"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/limits/images/manifest",
            new StringContent("a.jpg,n01440764\nb.jpg,n02085620\n", Encoding.UTF8, "text/csv"))).StatusCode);
        using var client = fixture.App.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/leaderboard?dataset=limits&alpha=0.05")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/leaderboard?dataset=limits&alpha=0.1")).StatusCode);
        var limited = await client.GetAsync("/api/leaderboard?dataset=limits&alpha=0.2");
        var problem = await limited.ProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("always served", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/leaderboard?dataset=limits&version=0")).StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // The default board and the variants this client had are still served, as often as asked.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/leaderboard?dataset=limits")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/leaderboard?dataset=limits&alpha=0.1")).StatusCode);
        }
        // Another client has its own bucket.
        using var reviewer = await fixture.App.UserAsync("limits-reader", "reviewer");
        Assert.Equal(HttpStatusCode.OK, (await reviewer.GetAsync("/api/leaderboard?dataset=limits&alpha=0.2")).StatusCode);
    }
}
