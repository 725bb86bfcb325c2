using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Operations;

/// <summary>
/// Two API processes on one database, sharing the Data Protection key ring, as docs/operations.md runs them behind a
/// proxy: what is done through one is seen through the other.
/// </summary>
public sealed class TwoProcessesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.True(await condition(), $"{what} was not seen through the other process within {Patience.TotalSeconds} s.");
    }

    [Fact]
    public async Task A_revocation_an_upload_and_a_verdict_made_through_one_process_are_seen_through_the_other()
    {
        var database = await TestDatabase.CreateAsync();
        var keys = Path.Combine(Path.GetTempPath(), "relabel-tests", "keys-" + Guid.NewGuid().ToString("N"));
        var shared = new Dictionary<string, string?> { ["Relabel:DataProtectionKeysPath"] = keys };
        try
        {
            await using var one = await ApiProcess.StartAsync(database, shared);
            await using var two = await ApiProcess.StartAsync(database, shared);
            using var admin = one.Admin();

            // Revocation: a cookie signed in through one works through the other until the user is disabled through one.
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/users",
                new { name = "both-reviewer", roles = new[] { "reviewer" }, password = "both-reviewer-password" })).StatusCode);
            var cookies = new CookieContainer();
            using var browser = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies }) { Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.OK, (await browser.PostAsJsonAsync(new Uri(one.BaseAddress, "/api/auth/sign-in"),
                new { name = "both-reviewer", password = "both-reviewer-password" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(new Uri(two.BaseAddress, "/api/auth/tokens"))).StatusCode);
            var token = (await (await admin.PostAsJsonAsync("/api/users/both-reviewer/tokens", new { name = "t" })).JsonAsync()).GetProperty("token").GetString()!;
            using var tokenOnTwo = two.WithToken(token);
            Assert.Equal(HttpStatusCode.OK, (await tokenOnTwo.GetAsync("/api/auth/me")).StatusCode);

            // An upload through one: its predictions, its board entry and its review items through two.
            await PredictionData.CreateDatasetAsync(admin, "both", images: 6);
            await PredictionData.CreateModelAsync(admin, "both-model");
            var upload = await PredictionData.PutAsync(admin, "both-model", "both",
                PredictionData.Body(PredictionData.Json(PredictionData.Rows(6, 1, shift: 1)), "application/json"));
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
            using var anonymousTwo = two.Anonymous();
            var stored = await anonymousTwo.GetStringAsync("/api/models/both-model/predictions/both?format=csv");
            Assert.Equal(7, stored.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            var board = JsonDocument.Parse(await anonymousTwo.GetStringAsync("/api/leaderboard?dataset=both")).RootElement;
            Assert.Contains(board.GetProperty("rows").EnumerateArray(), r => r.GetProperty("slug").GetString() == "both-model");
            JsonElement review = default;
            await EventuallyAsync(async () =>
            {
                var next = await tokenOnTwo.GetAsync("/api/review/next?dataset=both");
                if (next.StatusCode != HttpStatusCode.OK) return false;
                review = await next.JsonAsync();
                // The image's original label and the model's (different) top-1: the upload's follow-up was done.
                return review.GetProperty("labels").GetArrayLength() == 2;
            }, "The review items of an upload");

            // A verdict through two: in the history and the review state read through one.
            var verdicts = review.GetProperty("labels").EnumerateArray().ToDictionary(l => l.GetProperty("wnid").GetString()!, _ => "correct");
            Assert.Equal(HttpStatusCode.OK, (await tokenOnTwo.SubmitAsync(review, verdicts)).StatusCode);
            var history = await (await admin.GetAsync($"/api/images/{review.ImageId()}/history")).JsonAsync();
            Assert.Equal(2, history.EnumerateArray().Count(e => e.GetProperty("author").GetString() == "both-reviewer"));
            var progress = await (await admin.GetAsync("/api/review/progress?dataset=both")).JsonAsync();
            Assert.Contains("both-reviewer", progress.ToString());

            // The revocation through one ends the cookie session and the token through two.
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/users/both-reviewer/disable", null)).StatusCode);
            await EventuallyAsync(async () => (await browser.GetAsync(new Uri(two.BaseAddress, "/api/auth/tokens"))).StatusCode == HttpStatusCode.Unauthorized,
                "Disabling a user (the cookie session)");
            await EventuallyAsync(async () => (await tokenOnTwo.GetAsync("/api/auth/me")).StatusCode == HttpStatusCode.Unauthorized,
                "Disabling a user (the token)");
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(database);
            if (Directory.Exists(keys)) Directory.Delete(keys, recursive: true);
        }
    }
}
