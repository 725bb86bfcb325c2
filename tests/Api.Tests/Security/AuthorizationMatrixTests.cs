using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
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
        ["GET /api/auth/me"] = Access.Public,
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
        ["PATCH /api/datasets/{slug}"] = Access.Admin,
        ["GET /api/datasets/{slug}/image-sets"] = Access.Public,
        ["POST /api/datasets/{slug}/image-sets"] = Access.Admin,
        ["GET /api/datasets/{slug}/statistics"] = Access.Public,
        ["GET /api/compare"] = Access.Public,
        ["GET /api/analysis/paper"] = Access.Public,
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
        ["GET /api/datasets/{dataset}/prediction-template"] = Access.Public,
        ["GET /api/models/{slug}/uploads"] = Access.Public,
        ["GET /api/review/next"] = Access.Reviewer,
        ["GET /api/review/images/{id}"] = Access.Reviewer,
        ["POST /api/review/images/{id}"] = Access.Reviewer,
        ["POST /api/review/images/{id}/skip"] = Access.Reviewer,
        ["GET /api/review/progress"] = Access.Reviewer,
        ["POST /api/review/items/{id}/adjudicate"] = Access.Admin,
        ["GET /api/images/{id}/history"] = Access.SignedIn,
        ["PUT /api/datasets/{slug}/consensus"] = Access.Admin,
        ["GET /api/guide-notes"] = Access.SignedIn,
        ["PUT /api/guide-notes"] = Access.Admin,
        ["PUT /api/guide-notes/{id}"] = Access.Admin,
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

    private sealed record Caller(string Name, Func<Task<HttpClient>> Create, string[] Roles, bool Authenticated, bool OwnsModel)
    {
        /// <summary>For names of things a caller creates: "uploader (not the owner)" is "uploader".</summary>
        public string Key => Name.Split(' ')[0];
    }

    /// <summary>What an allowed caller sends to an endpoint and the success it must get.</summary>
    private sealed record Call(HttpStatusCode Status)
    {
        /// <summary>The path, when it is not the table's with the placeholders filled in.</summary>
        public Func<Caller, Task<string>>? Path { get; init; }
        /// <summary>The body of an allowed call ("{}" when absent, which is all a refused call needs).</summary>
        public Func<Caller, Task<HttpContent>>? Body { get; init; }
        /// <summary>An allowed caller that gets something else than <see cref="Status"/>, by meaning (not a labeler: 404).</summary>
        public Func<Caller, HttpStatusCode?>? StatusFor { get; init; }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent Csv(string csv) => new(csv, Encoding.UTF8, "text/csv");

    [Fact]
    public async Task Every_endpoint_answers_every_kind_of_caller_as_the_matrix_says()
    {
        var app = fixture.App;
        using var admin = app.Admin();
        await TestData.CreateDatasetAsync(admin, "matrix", ["n01440764", "n02085620"]);
        // A class list can change only while nothing is predicted over it.
        await TestData.CreateDatasetAsync(admin, "matrix-classes", ["n01440764"]);
        using var owner = await app.UserAsync("matrix-owner", "uploader");
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/models",
            new { slug = "matrix-model", displayName = "Matrix model", kind = "model" })).StatusCode);
        var reviewer = await app.UserAsync("matrix-reviewer", "reviewer");
        var uploader = await app.UserAsync("matrix-uploader", "uploader");
        var revoked = await app.UserAsync("matrix-revoked", "admin");
        // The target of the user-management calls (disabling a caller would change what the table expects of it).
        (await app.UserAsync("matrix-spare", "reviewer")).Dispose();
        var revokedToken = revoked.DefaultRequestHeaders.Authorization!.Parameter!;
        // Targets that the calls may change without changing the callers: a spare token, an image, models to delete.
        var spareToken = (await (await admin.PostAsJsonAsync("/api/users/matrix-owner/tokens", new { name = "spare" })).JsonAsync()).GetProperty("id").GetInt64();
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new ByteArrayContent(TestData.Png(4, 4)), "files", "matrix.png");
            form.Add(new StringContent("0"), "label");
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsync("/api/datasets/matrix/images", form)).StatusCode);
        }
        var imageId = (await (await admin.GetAsync("/api/images?dataset=matrix")).JsonAsync()).GetProperty("items")[0].GetProperty("id").GetInt64();
        var imageName = (await (await admin.GetAsync($"/api/images/{imageId}")).JsonAsync()).GetProperty("fileName").GetString()!;
        var predictions = $$"""{"predictions":[{"image":"{{imageName}}","labels":["n02085620"]}]}""";
        var put = await owner.PutAsync("/api/models/matrix-model/predictions/matrix", Json(predictions));
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        // Two more entries that no call deletes, to compare; a shifted partner, for the paper view.
        foreach (var slug in new[] { "matrix-pair-a", "matrix-pair-b" })
        {
            Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/models", new { slug, displayName = slug, kind = "model" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await owner.PutAsync($"/api/models/{slug}/predictions/matrix?partial=true", Json(predictions))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets",
            new { slug = "matrix-v2", name = "matrix v2", labelSpaceOf = "matrix", shiftOf = "matrix" })).StatusCode);
        foreach (var key in new[] { "anonymous", "reviewer", "uploader", "owner", "admin", "revoked", "expired" })
            Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/models",
                new { slug = $"matrix-doomed-{key}", displayName = "Doomed", kind = "model" })).StatusCode);
        var task = (await (await admin.PostAsJsonAsync("/api/labeling/tasks", new
        {
            name = "matrix", dataset = "matrix", mode = "evaluation", labelers = new[] { "matrix-reviewer", "matrix-uploader", "matrix-owner" },
            fileNames = new[] { imageName },
        })).JsonAsync()).GetProperty("id").GetInt64();
        // Votes to aggregate: the aggregation's job is the one the jobs endpoint is asked for.
        await Interop.InteropTests.WaitForJobAsync(admin, await admin.PostAsync("/api/datasets/matrix/import/rater-votes",
            Csv($"file_name,wnid,rater,answer\n{imageName},n01440764,r1,yes\n{imageName},n01440764,r2,yes\n")));
        var aggregation = await admin.PostAsJsonAsync("/api/datasets/matrix/aggregation", new { threshold = 0.9 });
        await Interop.InteropTests.WaitForJobAsync(admin, aggregation);
        var jobId = (await aggregation.JsonAsync()).GetProperty("jobId").GetInt64();
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

        async Task<JsonElement> ReviewOfImageAsync() => await (await admin.GetAsync($"/api/review/images/{imageId}")).JsonAsync();
        async Task<JsonElement> FirstItemAsync() => (await ReviewOfImageAsync()).GetProperty("labels")[0];
        static Task<string> At(string path) => Task.FromResult(path);
        static Task<HttpContent> Body(HttpContent content) => Task.FromResult(content);
        static HttpStatusCode? NotALabeler(Caller c) => c.Roles.Contains("admin") ? HttpStatusCode.NotFound : null;
        var ok = new Call(HttpStatusCode.OK);
        var release = $$$"""{"initial_annots":{"{{{imageName}}}":{"correct":["n01440764"],"wrong":["n02085620"],"unclear":[]}},"problematic_images":{},"imagenet_m":[]}""";
        var success = new Dictionary<string, Call>
        {
            ["GET /api/health"] = ok,
            ["GET /api/health/ready"] = ok,
            ["POST /api/auth/sign-in"] = ok with { Body = _ => Body(JsonContent.Create(new { name = "admin", password = TestDatabase.AdminPassword })) },
            ["POST /api/auth/sign-out"] = new(HttpStatusCode.NoContent),
            // Anyone learns whether they are signed in (null when not); a token that does not authenticate is refused.
            ["GET /api/auth/me"] = ok with { StatusFor = c => c.Name == "revoked token" ? HttpStatusCode.Unauthorized : HttpStatusCode.OK },
            ["GET /api/auth/csrf"] = ok,
            // Each caller sets its own password again (a new one would end the sessions the table's callers rely on).
            ["POST /api/auth/password"] = new(HttpStatusCode.NoContent)
            {
                Body = c =>
                {
                    var password = c.Key == "admin" ? TestDatabase.AdminPassword : $"matrix-{c.Key}-password";
                    return Body(JsonContent.Create(new { currentPassword = password, newPassword = password }));
                },
            },
            ["GET /api/auth/tokens"] = ok,
            ["POST /api/auth/tokens"] = new(HttpStatusCode.Created) { Body = _ => Body(JsonContent.Create(new { name = "matrix-own", expiresInDays = 1 })) },
            // Each signed-in caller revokes a token of its own, made for the purpose.
            ["DELETE /api/auth/tokens/{id}"] = new(HttpStatusCode.NoContent)
            {
                Path = async c =>
                {
                    if (!c.Authenticated) return "/api/auth/tokens/1";
                    var own = await (await c.Create()).PostAsJsonAsync("/api/auth/tokens", new { name = "matrix-doomed" });
                    return $"/api/auth/tokens/{(await own.JsonAsync()).GetProperty("id").GetInt64()}";
                },
            },
            ["PUT /api/users/{name}/roles"] = ok with { Body = _ => Body(JsonContent.Create(new { roles = new[] { "reviewer" } })) },
            ["POST /api/users/{name}/disable"] = ok,
            ["POST /api/users/{name}/enable"] = ok,
            ["POST /api/users/{name}/password"] = ok,
            ["GET /api/users"] = ok,
            ["POST /api/users"] = new(HttpStatusCode.Created) { Body = c => Body(JsonContent.Create(new { name = $"matrix-new-{c.Key}", roles = Array.Empty<string>() })) },
            ["POST /api/users/{name}/tokens"] = new(HttpStatusCode.Created) { Body = _ => Body(JsonContent.Create(new { name = "matrix" })) },
            ["DELETE /api/tokens/{id}"] = new(HttpStatusCode.NoContent),
            ["GET /api/synsets"] = ok with { Path = _ => At("/api/synsets?q=dog") },
            ["GET /api/synsets/{wnid}"] = ok,
            ["GET /api/datasets"] = ok,
            ["GET /api/datasets/{slug}"] = ok,
            ["POST /api/datasets"] = new(HttpStatusCode.Created) { Body = c => Body(JsonContent.Create(new { slug = $"matrix-{c.Key}", name = "x", classes = new[] { "n01440764" } })) },
            ["GET /api/datasets/{slug}/classes"] = ok,
            ["PUT /api/datasets/{slug}/classes"] = ok with
                { Path = _ => At("/api/datasets/matrix-classes/classes"), Body = _ => Body(Json("""["n01440764","n02085620"]""")) },
            ["GET /api/datasets/{slug}/subsets"] = ok,
            ["POST /api/datasets/{slug}/subsets"] = new(HttpStatusCode.Created) { Body = c => Body(JsonContent.Create(new { name = $"dogs-{c.Key}", includeRoot = "n02084071" })) },
            ["POST /api/datasets/{slug}/images"] = new(HttpStatusCode.Created)
            {
                Body = _ =>
                {
                    var form = new MultipartFormDataContent();
                    form.Add(new ByteArrayContent(TestData.Png(4, 4)), "files", "matrix.png");
                    form.Add(new StringContent("0"), "label");
                    return Body(form);
                },
            },
            ["POST /api/datasets/{slug}/images/manifest"] = ok with { Body = _ => Body(Csv("matrix-manifest.JPEG,1")) },
            ["GET /api/images"] = ok with { Path = _ => At("/api/images?dataset=matrix") },
            ["GET /api/images/{id}"] = ok,
            ["GET /api/images/{id}/file"] = ok,
            // A job is its creator's (an admin's here): to any other signed-in caller it does not exist.
            ["GET /api/jobs/{id}"] = ok with { Path = _ => At($"/api/jobs/{jobId}"), StatusFor = c => c.Roles.Contains("admin") ? null : HttpStatusCode.NotFound },
            ["GET /api/models"] = ok,
            ["GET /api/models/{slug}"] = ok,
            ["POST /api/models"] = new(HttpStatusCode.Created) { Body = c => Body(JsonContent.Create(new { slug = $"matrix-new-{c.Key}", displayName = "New", kind = "model" })) },
            ["PATCH /api/models/{slug}"] = ok with { Body = _ => Body(JsonContent.Create(new { displayName = "Matrix model" })) },
            ["DELETE /api/models/{slug}"] = new(HttpStatusCode.NoContent) { Path = c => At($"/api/models/matrix-doomed-{c.Key}") },
            ["GET /api/models/{slug}/predictions"] = ok,
            // Partial: the image uploads and manifests above add images that the predictions do not cover.
            ["PUT /api/models/{slug}/predictions/{dataset}"] = ok with
                { Path = _ => At("/api/models/matrix-model/predictions/matrix?partial=true"), Body = _ => Body(Json(predictions)) },
            ["GET /api/models/{slug}/predictions/{dataset}"] = ok,
            ["GET /api/datasets/{dataset}/prediction-template"] = ok,
            ["DELETE /api/models/{slug}/predictions/{dataset}"] = new(HttpStatusCode.NoContent)
            {
                // Each deletion needs predictions to delete: the admin puts them back first.
                Path = async _ =>
                {
                    Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/api/models/matrix-model/predictions/matrix?partial=true", Json(predictions))).StatusCode);
                    return "/api/models/matrix-model/predictions/matrix";
                },
            },
            ["GET /api/models/{slug}/uploads"] = ok,
            // The reviewer takes the only image's lease; the admin, asking next, finds nothing left to lease.
            ["GET /api/review/next"] = ok with { Path = _ => At("/api/review/next?dataset=matrix"), StatusFor = c => c.Roles.Contains("admin") ? HttpStatusCode.NoContent : null },
            ["GET /api/review/images/{id}"] = ok,
            ["POST /api/review/images/{id}"] = ok with
            {
                Body = async _ => JsonContent.Create(new
                {
                    verdicts = (await ReviewOfImageAsync()).GetProperty("labels").EnumerateArray().Select(l => new
                        { itemId = l.GetProperty("itemId").GetInt64(), version = l.GetProperty("version").GetInt32(), verdict = "correct" }),
                }),
            },
            ["POST /api/review/images/{id}/skip"] = ok with { Body = _ => Body(JsonContent.Create(new { reason = "unsure" })) },
            ["GET /api/review/progress"] = ok with { Path = _ => At("/api/review/progress?dataset=matrix") },
            ["POST /api/review/items/{id}/adjudicate"] = ok with
            {
                Path = async _ => $"/api/review/items/{(await FirstItemAsync()).GetProperty("itemId").GetInt64()}/adjudicate",
                Body = async _ => JsonContent.Create(new { verdict = "correct", version = (await FirstItemAsync()).GetProperty("version").GetInt32() }),
            },
            ["GET /api/images/{id}/history"] = ok,
            ["PUT /api/datasets/{slug}/consensus"] = ok with { Body = _ => Body(JsonContent.Create(new { rule = "latest" })) },
            ["GET /api/guide-notes"] = ok,
            ["PUT /api/guide-notes"] = ok with { Body = _ => Body(JsonContent.Create(new { wnid = "n01440764", body = "Green." })) },
            // Each admin edit gets a note of its own (two notes on one class would be a conflict).
            ["PUT /api/guide-notes/{id}"] = ok with
            {
                Path = async _ =>
                {
                    var note = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = "n02086240", body = "Long coat." })).JsonAsync();
                    return $"/api/guide-notes/{note.GetProperty("id").GetInt64()}";
                },
                Body = _ => Body(JsonContent.Create(new { wnid = "n02086240", body = "Long silky coat." })),
            },
            ["DELETE /api/guide-notes/{id}"] = new(HttpStatusCode.NoContent)
            {
                Path = async _ =>
                {
                    var note = await (await admin.PutAsJsonAsync("/api/guide-notes", new { wnid = "n02085620", body = "Small." })).JsonAsync();
                    return $"/api/guide-notes/{note.GetProperty("id").GetInt64()}";
                },
            },
            ["GET /api/guide"] = ok,
            ["POST /api/labeling/tasks"] = new(HttpStatusCode.Created)
            {
                Body = _ => Body(JsonContent.Create(new { name = "t", dataset = "matrix", mode = "evaluation", labelers = new[] { "matrix-reviewer" }, fileNames = new[] { imageName } })),
            },
            ["GET /api/labeling/tasks"] = ok,
            ["GET /api/labeling/tasks/{id}"] = ok with { Path = _ => At($"/api/labeling/tasks/{task}") },
            ["GET /api/labeling/tasks/{id}/progress"] = ok with { Path = _ => At($"/api/labeling/tasks/{task}/progress") },
            // The reviewer, the uploader and the owner label the task; the admin, who does not, answers in no one's stead.
            ["GET /api/labeling/tasks/{id}/items/{position}"] = ok with { Path = _ => At($"/api/labeling/tasks/{task}/items/1"), StatusFor = NotALabeler },
            ["PUT /api/labeling/tasks/{id}/items/{position}"] = ok with
            {
                Path = _ => At($"/api/labeling/tasks/{task}/items/1"), Body = _ => Body(JsonContent.Create(new { wnid = "n01440764" })), StatusFor = NotALabeler,
            },
            ["POST /api/labeling/tasks/{id}/pause"] = new(HttpStatusCode.NoContent) { Path = _ => At($"/api/labeling/tasks/{task}/pause"), StatusFor = NotALabeler },
            ["POST /api/labeling/tasks/{id}/submit"] = ok with { Path = _ => At($"/api/labeling/tasks/{task}/submit"), StatusFor = NotALabeler },
            ["GET /api/labeling/timing"] = ok with { Path = _ => At("/api/labeling/timing?dataset=matrix") },
            ["GET /api/leaderboard"] = ok with { Path = _ => At("/api/leaderboard?dataset=matrix") },
            ["GET /api/models/{slug}/results"] = ok with { Path = _ => At("/api/models/matrix-model/results?dataset=matrix") },
            ["GET /api/images/{id}/predictions"] = ok,
            ["GET /api/analysis/hard-images"] = ok with { Path = _ => At("/api/analysis/hard-images?dataset=matrix") },
            // One list per image, however many the calls above added.
            ["PUT /api/datasets/{slug}/reference-labels"] = ok with
            {
                Body = async _ =>
                {
                    var images = (await (await admin.GetAsync("/api/datasets/matrix")).JsonAsync()).GetProperty("imageCount").GetInt32();
                    return Json("[" + string.Join(",", Enumerable.Repeat("[0]", images)) + "]");
                },
            },
            ["POST /api/datasets/{slug}/import/multilabel"] = new(HttpStatusCode.Accepted) { Body = _ => Body(Json(release)) },
            ["GET /api/datasets/{slug}/export/multilabel"] = ok,
            ["GET /api/datasets/{slug}/export/real"] = ok,
            ["POST /api/datasets/{slug}/import/rater-votes"] = new(HttpStatusCode.Accepted) { Body = _ => Body(Csv($"file_name,wnid,rater,answer\n{imageName},n02085620,r3,no\n")) },
            ["GET /api/datasets/{slug}/export/bundle"] = ok,
            // The server's own bundle, sent back: accepted, to be merged by a job.
            ["POST /api/import/bundle"] = new(HttpStatusCode.Accepted)
            {
                Body = async _ =>
                {
                    var bundle = new ByteArrayContent(await admin.GetByteArrayAsync("/api/datasets/matrix/export/bundle"));
                    bundle.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/gzip");
                    return bundle;
                },
            },
            ["POST /api/datasets/{slug}/aggregation"] = new(HttpStatusCode.Accepted) { Body = _ => Body(JsonContent.Create(new { threshold = 0.9 })) },
            ["GET /api/datasets/{slug}/aggregation"] = ok,
            ["PATCH /api/datasets/{slug}"] = ok with { Body = _ => Body(JsonContent.Create(new { originalWrongIsProblematic = false })) },
            ["GET /api/datasets/{slug}/image-sets"] = ok,
            ["POST /api/datasets/{slug}/image-sets"] = new(HttpStatusCode.Created) { Body = c => Body(JsonContent.Create(new { name = $"matrix-set-{c.Key}", files = new[] { imageName } })) },
            ["GET /api/datasets/{slug}/statistics"] = ok,
            ["GET /api/compare"] = ok with { Path = _ => At("/api/compare?dataset=matrix&a=matrix-pair-a&b=matrix-pair-b") },
            ["GET /api/analysis/paper"] = ok with { Path = _ => At("/api/analysis/paper?dataset=matrix") },
        };
        // Deciding who may call a new endpoint includes deciding what its callers get.
        Assert.Empty(Matrix.Keys.Except(success.Keys).Order());

        var failures = new List<string>();
        foreach (var (endpoint, access) in Matrix)
        {
            var method = endpoint.Split(' ')[0];
            var call = success[endpoint];
            foreach (var caller in callers)
            {
                // Signing in or out would change the cookie caller itself.
                if (caller.Name == "expired cookie" && endpoint.StartsWith("POST /api/auth/")) continue;
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
                var path = call.Path is { } custom ? await custom(caller) : endpoint.Split(' ')[1]
                    .Replace("{slug}", endpoint.Contains("/models/") ? "matrix-model" : "matrix")
                    .Replace("{dataset}", "matrix").Replace("{wnid}", "n02084071")
                    .Replace("{name}", endpoint.EndsWith("/tokens") ? "matrix-owner" : "matrix-spare")
                    .Replace("/api/tokens/{id}", $"/api/tokens/{spareToken}").Replace("/images/{id}", $"/images/{imageId}");
                var client = await caller.Create();
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH")
                    request.Content = allowed && call.Body is { } body ? await body(caller) : Json("{}");
                using var response = await client.SendAsync(request);
                var status = response.StatusCode;
                var expected = allowed ? call.StatusFor?.Invoke(caller) ?? call.Status
                    : caller.Authenticated ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized;
                if (status == expected) continue;
                var text = await response.Content.ReadAsStringAsync();
                failures.Add($"{endpoint} as {caller.Name}: {(int)status}, expected {(int)expected}{(allowed ? " (allowed)" : "")}: {text[..Math.Min(200, text.Length)]}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
