using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Security;

/// <summary>Who may call an endpoint.</summary>
public enum Access
{
    /// <summary>Anyone, signed in or not.</summary>
    Public,
    /// <summary>Any signed-in user.</summary>
    SignedIn,
    Admin,
    /// <summary>Uploaders and admins.</summary>
    Uploader,
    /// <summary>Reviewers and admins.</summary>
    Reviewer,
    /// <summary>The owner of the model (an uploader) or an admin.</summary>
    ModelOwner,
}

public sealed class SessionExpiryFixture : ApiFixture
{
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?> { ["Relabel:SessionMinutes"] = "0.05" };
}

/// <summary>
/// Every endpoint against every kind of caller. The table below must name every endpoint the API maps:
/// adding an endpoint without deciding who may call it fails this test.
/// </summary>
public sealed class AuthorizationMatrixTests(SessionExpiryFixture fixture) : IClassFixture<SessionExpiryFixture>
{
    private static readonly Dictionary<string, Access> Matrix = new()
    {
        ["GET /api/health"] = Access.Public,
        ["GET /api/health/ready"] = Access.Public,
        ["POST /api/auth/sign-in"] = Access.Public,
        ["POST /api/auth/sign-out"] = Access.Public,
        ["GET /api/auth/me"] = Access.SignedIn,
        ["GET /api/auth/csrf"] = Access.Public,
        ["POST /api/auth/password"] = Access.SignedIn,
        ["GET /api/auth/tokens"] = Access.SignedIn,
        ["POST /api/auth/tokens"] = Access.SignedIn,
        ["DELETE /api/auth/tokens/{id}"] = Access.SignedIn,
        ["GET /api/users"] = Access.Admin,
        ["POST /api/users"] = Access.Admin,
        ["POST /api/users/{name}/tokens"] = Access.Admin,
        ["PUT /api/users/{name}/roles"] = Access.Admin,
        ["POST /api/users/{name}/disable"] = Access.Admin,
        ["POST /api/users/{name}/enable"] = Access.Admin,
        ["POST /api/users/{name}/password"] = Access.Admin,
        ["DELETE /api/tokens/{id}"] = Access.Admin,
        ["GET /api/synsets"] = Access.Public,
        ["GET /api/synsets/{wnid}"] = Access.Public,
        ["GET /api/datasets"] = Access.Public,
        ["GET /api/datasets/{slug}"] = Access.Public,
        ["POST /api/datasets"] = Access.Admin,
        ["GET /api/datasets/{slug}/classes"] = Access.Public,
        ["PUT /api/datasets/{slug}/classes"] = Access.Admin,
        ["GET /api/datasets/{slug}/subsets"] = Access.Public,
        ["POST /api/datasets/{slug}/subsets"] = Access.Admin,
        ["POST /api/datasets/{slug}/images"] = Access.Admin,
        ["POST /api/datasets/{slug}/images/manifest"] = Access.Admin,
        ["GET /api/images"] = Access.Public,
        ["GET /api/images/{id}"] = Access.Public,
        ["GET /api/images/{id}/file"] = Access.SignedIn,
        ["GET /api/jobs/{id}"] = Access.SignedIn,
        ["GET /api/models"] = Access.Public,
        ["GET /api/models/{slug}"] = Access.Public,
        ["POST /api/models"] = Access.Uploader,
        ["PATCH /api/models/{slug}"] = Access.ModelOwner,
        ["DELETE /api/models/{slug}"] = Access.ModelOwner,
        ["GET /api/models/{slug}/predictions"] = Access.Public,
        ["PUT /api/models/{slug}/predictions/{dataset}"] = Access.ModelOwner,
        ["GET /api/models/{slug}/predictions/{dataset}"] = Access.Public,
        ["DELETE /api/models/{slug}/predictions/{dataset}"] = Access.ModelOwner,
        ["GET /api/models/{slug}/uploads"] = Access.Public,
        ["GET /api/review/next"] = Access.Reviewer,
        ["GET /api/review/images/{id}"] = Access.Reviewer,
        ["POST /api/review/images/{id}"] = Access.Reviewer,
        ["GET /api/review/progress"] = Access.Reviewer,
        ["POST /api/review/items/{id}/adjudicate"] = Access.Admin,
        ["GET /api/images/{id}/history"] = Access.SignedIn,
        ["PUT /api/datasets/{slug}/consensus"] = Access.Admin,
        ["GET /api/guide-notes"] = Access.SignedIn,
        ["PUT /api/guide-notes"] = Access.Admin,
        ["DELETE /api/guide-notes/{id}"] = Access.Admin,
        ["GET /api/guide"] = Access.SignedIn,
        ["POST /api/labeling/tasks"] = Access.Admin,
        // Signed-in callers that are not labelers of a task get 404, as if it did not exist.
        ["GET /api/labeling/tasks"] = Access.SignedIn,
        ["GET /api/labeling/tasks/{id}"] = Access.SignedIn,
        ["GET /api/labeling/tasks/{id}/progress"] = Access.Admin,
        ["GET /api/labeling/tasks/{id}/items/{position}"] = Access.SignedIn,
        ["PUT /api/labeling/tasks/{id}/items/{position}"] = Access.SignedIn,
        ["POST /api/labeling/tasks/{id}/pause"] = Access.SignedIn,
        ["POST /api/labeling/tasks/{id}/submit"] = Access.SignedIn,
        ["GET /api/labeling/timing"] = Access.Admin,
        ["GET /api/leaderboard"] = Access.Public,
        ["GET /api/models/{slug}/results"] = Access.Public,
        ["GET /api/images/{id}/predictions"] = Access.Public,
        ["GET /api/analysis/hard-images"] = Access.Public,
        ["PUT /api/datasets/{slug}/reference-labels"] = Access.Admin,
        ["POST /api/datasets/{slug}/import/multilabel"] = Access.Admin,
        ["GET /api/datasets/{slug}/export/multilabel"] = Access.Public,
        ["GET /api/datasets/{slug}/export/real"] = Access.Public,
        ["POST /api/datasets/{slug}/import/rater-votes"] = Access.Admin,
        ["GET /api/datasets/{slug}/export/bundle"] = Access.Admin,
        ["POST /api/import/bundle"] = Access.Admin,
        ["POST /api/datasets/{slug}/aggregation"] = Access.Admin,
        ["GET /api/datasets/{slug}/aggregation"] = Access.Public,
    };

    private static IEnumerable<string> MappedEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/") == true && !e.RoutePattern.RawText.Contains("{**"))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => $"{m} {Normalise(e.RoutePattern.RawText!)}"))
            .Distinct();

    // "/api/images/{id:long}" and "/api/images/" are written "/api/images/{id}" and "/api/images" in the table.
    private static string Normalise(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, @"\{(\w+):[^}]+\}", "{$1}").TrimEnd('/');

    [Fact]
    public void Every_endpoint_has_an_entry_in_the_matrix()
    {
        var mapped = MappedEndpoints(fixture.App.Services).ToHashSet();
        Assert.Empty(mapped.Except(Matrix.Keys).Order());
        Assert.Empty(Matrix.Keys.Except(mapped).Order());
    }

    private sealed record Caller(string Name, Func<Task<HttpClient>> Create, string[] Roles, bool Authenticated, bool OwnsModel);

    [Fact]
    public async Task Every_endpoint_answers_every_kind_of_caller_as_the_matrix_says()
    {
        var app = fixture.App;
        using var admin = app.Admin();
        await TestData.CreateDatasetAsync(admin, "matrix", ["n01440764", "n02085620"]);
        using var owner = await app.UserAsync("matrix-owner", "uploader");
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/models",
            new { slug = "matrix-model", displayName = "Matrix model", kind = "model" })).StatusCode);
        var reviewer = await app.UserAsync("matrix-reviewer", "reviewer");
        var uploader = await app.UserAsync("matrix-uploader", "uploader");
        var revoked = await app.UserAsync("matrix-revoked", "admin");
        // The target of the user-management calls (disabling a caller would change what the table expects of it).
        (await app.UserAsync("matrix-spare", "reviewer")).Dispose();
        var revokedToken = revoked.DefaultRequestHeaders.Authorization!.Parameter!;
        // Targets that the calls may change without changing the callers: a spare token, an image without bytes.
        var spareToken = (await (await admin.PostAsJsonAsync("/api/users/matrix-owner/tokens", new { name = "spare" })).JsonAsync()).GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/matrix/images/manifest",
            new StringContent("matrix.JPEG,0", Encoding.UTF8, "text/csv"))).StatusCode);
        var imageId = (await (await admin.GetAsync("/api/images?dataset=matrix")).JsonAsync()).GetProperty("items")[0].GetProperty("id").GetInt64();
        await using (var connection = await app.Db.OpenConnectionAsync())
            await Dapper.SqlMapper.ExecuteAsync(connection,
                "update api_tokens set revoked_at = now() where user_id = (select id from users where name = 'matrix-revoked')");

        // A cookie that has expired: this fixture's sessions last three seconds.
        var expired = app.CreateClient(new() { HandleCookies = true });
        Assert.Equal(HttpStatusCode.OK, (await expired.PostAsJsonAsync("/api/auth/sign-in",
            new { name = "matrix-reviewer", password = "matrix-reviewer-password" })).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(3.5));

        var callers = new[]
        {
            new Caller("anonymous", () => Task.FromResult(app.Anonymous()), [], false, false),
            new Caller("reviewer", () => Task.FromResult(reviewer), ["reviewer"], true, false),
            new Caller("uploader (not the owner)", () => Task.FromResult(uploader), ["uploader"], true, false),
            new Caller("owner", () => Task.FromResult(owner), ["uploader"], true, true),
            new Caller("admin", () => Task.FromResult(app.Admin()), ["admin"], true, true),
            new Caller("revoked token", () => Task.FromResult(app.WithToken(revokedToken)), [], false, false),
            new Caller("expired cookie", () => Task.FromResult(expired), [], false, false),
        };

        var failures = new List<string>();
        foreach (var (endpoint, access) in Matrix)
        {
            var method = endpoint.Split(' ')[0];
            var path = endpoint.Split(' ')[1]
                .Replace("{slug}", endpoint.Contains("/models/") ? "matrix-model" : "matrix")
                .Replace("{dataset}", "matrix").Replace("{wnid}", "n02084071").Replace("{name}", endpoint.EndsWith("/tokens") ? "matrix-owner" : "matrix-spare")
                .Replace("/api/tokens/{id}", $"/api/tokens/{spareToken}").Replace("/api/auth/tokens/{id}", $"/api/auth/tokens/{spareToken}").Replace("/api/images/{id}", $"/api/images/{imageId}").Replace("{id}", "1").Replace("{position}", "1");
            foreach (var caller in callers)
            {
                // Signing in or out would change the cookie caller itself, and deleting the model its owner's rights.
                if (caller.Name == "expired cookie" && endpoint.StartsWith("POST /api/auth/")) continue;
                var client = await caller.Create();
                var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                // Wrong credentials are a 401 by meaning, not by access: sign in for real.
                if (endpoint == "POST /api/auth/sign-in") request.Content = JsonContent.Create(new { name = "admin", password = TestDatabase.AdminPassword });
                if (method == "DELETE" && access == Access.ModelOwner && caller.OwnsModel) continue;
                var status = (await client.SendAsync(request)).StatusCode;
                var allowed = access switch
                {
                    Access.Public => true,
                    Access.SignedIn => caller.Authenticated,
                    Access.Admin => caller.Roles.Contains("admin"),
                    Access.Uploader => caller.Roles.Contains("uploader") || caller.Roles.Contains("admin"),
                    Access.Reviewer => caller.Roles.Contains("reviewer") || caller.Roles.Contains("admin"),
                    Access.ModelOwner => caller.OwnsModel,
                    _ => false,
                };
                var expected = allowed ? "not 401/403" : caller.Authenticated ? "403" : "401";
                var ok = allowed ? status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    : status == (caller.Authenticated ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized);
                if (status == HttpStatusCode.InternalServerError) ok = false;
                if (!ok) failures.Add($"{endpoint} as {caller.Name}: {(int)status}, expected {expected}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
