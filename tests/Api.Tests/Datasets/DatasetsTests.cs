using System.Net;
using System.Net.Http.Json;
using System.Text;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Datasets;

public sealed class DatasetsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static StringContent Text(string text) => new(text, Encoding.UTF8, "text/plain");

    [Fact]
    public async Task The_ILSVRC_2012_label_space_has_the_published_subset_counts()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "ilsvrc-counts", TestData.IlsvrcClasses());
        var subsets = await (await admin.GetAsync("/api/datasets/ilsvrc-counts/subsets")).JsonAsync();
        var counts = subsets.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("classCount").GetInt32());
        Assert.Equal(1000, counts["all"]);
        Assert.Equal(590, counts["objects"]);
        Assert.Equal(410, counts["organisms"]);
        Assert.Equal(118, counts["dogs"]);
        Assert.Equal(292, counts["organisms-not-dogs"]);

        // The dogs are exactly the classes 151-268.
        var dogs = await (await admin.GetAsync("/api/datasets/ilsvrc-counts/classes?subset=dogs")).JsonAsync();
        Assert.Equal(Enumerable.Range(151, 118), dogs.EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
    }

    [Fact]
    public async Task A_shifted_dataset_shares_the_label_space()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "orig", ["n02085620", "n01440764"]);
        var response = await admin.PostAsJsonAsync("/api/datasets", new { slug = "orig-v2", name = "V2", labelSpaceOf = "orig", shiftOf = "orig" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var v2 = await response.JsonAsync();
        Assert.Equal(2, v2.GetProperty("classCount").GetInt32());
        Assert.Equal("orig", v2.GetProperty("shiftOf").GetString());
        Assert.Equal(["orig"], v2.GetProperty("sharesLabelSpaceWith").EnumerateArray().Select(e => e.GetString()));
        var listed = await (await fixture.App.Anonymous().GetAsync("/api/datasets")).JsonAsync();
        Assert.Contains(listed.EnumerateArray(), d => d.GetProperty("slug").GetString() == "orig-v2");
    }

    [Fact]
    public async Task Class_lists_in_synset_words_format_replace_the_label_space()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "replace-me", ["n01440764"]);
        var response = await admin.PutAsync("/api/datasets/replace-me/classes",
            Text("n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n\nn02085620 Chihuahua\n"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var classes = await (await admin.GetAsync("/api/datasets/replace-me/classes")).JsonAsync();
        Assert.Equal(["n01440764", "n01443537", "n02085620"], classes.EnumerateArray().Select(c => c.GetProperty("wnid").GetString()));
        var json = await admin.PutAsync("/api/datasets/replace-me/classes", JsonContent.Create(new[] { "n02085620" }));
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        var subsets = await (await admin.GetAsync("/api/datasets/replace-me/subsets")).JsonAsync();
        Assert.Equal(1, subsets.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "dogs").GetProperty("classCount").GetInt32());
    }

    [Fact]
    public async Task Unknown_and_duplicate_wnids_are_named_with_their_lines_and_nothing_is_written()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "keep-me", ["n01440764"]);
        var response = await admin.PutAsync("/api/datasets/keep-me/classes",
            Text("n01440764 tench\nn99999999 nothing\nn01440764 tench again\nbanana\n"));
        var problem = await response.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        var errors = problem.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt64(), e.GetProperty("message").GetString()!)).ToList();
        Assert.Equal([2L, 3L, 4L], errors.Select(e => e.Item1));
        Assert.Contains("n99999999", errors[0].Item2);
        Assert.Contains("twice", errors[1].Item2);
        Assert.Equal(3, problem.GetProperty("errorCount").GetInt32());
        var classes = await (await admin.GetAsync("/api/datasets/keep-me/classes")).JsonAsync();
        Assert.Equal(["n01440764"], classes.EnumerateArray().Select(c => c.GetProperty("wnid").GetString()));
    }

    [Fact]
    public async Task Creating_a_dataset_validates_its_fields()
    {
        using var admin = fixture.App.Admin();
        var bad = await admin.PostAsJsonAsync("/api/datasets", new { slug = "Bad Slug!", name = "" });
        var problem = await bad.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(problem.HasFieldError("slug"), problem.ToString());
        var unknown = await admin.PostAsJsonAsync("/api/datasets", new { slug = "unknown-classes", name = "x", classes = new[] { "n01440764", "n00000000" } });
        var lines = await unknown.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(2, lines.GetProperty("errors")[0].GetProperty("line").GetInt32());
        var malformed = await admin.PostAsync("/api/datasets", new StringContent("{\"slug\": ", Encoding.UTF8, "application/json"));
        await malformed.ProblemAsync(HttpStatusCode.BadRequest);
        await TestData.CreateDatasetAsync(admin, "twice", ["n01440764"]);
        var again = await admin.PostAsJsonAsync("/api/datasets", new { slug = "twice", name = "x", classes = new[] { "n01440764" } });
        await again.ProblemAsync(HttpStatusCode.Conflict);
        var nothing = await admin.PostAsJsonAsync("/api/datasets", new { slug = "orphan", name = "x", labelSpaceOf = "no-such" });
        await nothing.ProblemAsync(HttpStatusCode.UnprocessableEntity);

        // None of the refused datasets exists, and the one that was there first kept its name.
        var slugs = (await (await admin.GetAsync("/api/datasets")).JsonAsync()).EnumerateArray().Select(d => d.GetProperty("slug").GetString()).ToList();
        Assert.Equal(["twice"], slugs.Where(s => s is "Bad Slug!" or "unknown-classes" or "twice" or "orphan"));
        Assert.Equal("twice", (await (await admin.GetAsync("/api/datasets/twice")).JsonAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Custom_subsets_by_root_complement_and_list()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "custom", ["n02085620", "n02086240", "n01440764", "n02690373"]);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets/custom/subsets",
            new { name = "fish", includeRoot = "n02512053" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets/custom/subsets",
            new { name = "not-fish", excludeRoot = "n02512053" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/datasets/custom/subsets",
            new { name = "picked", wnids = new[] { "n02086240", "n02690373" } })).StatusCode);
        var subsets = await (await admin.GetAsync("/api/datasets/custom/subsets")).JsonAsync();
        var counts = subsets.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("classCount").GetInt32());
        Assert.Equal(1, counts["fish"]);
        Assert.Equal(3, counts["not-fish"]);
        Assert.Equal(2, counts["picked"]);
        var bad = await admin.PostAsJsonAsync("/api/datasets/custom/subsets", new { name = "bad", wnids = new[] { "n02084071" } });
        var problem = await bad.ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("wnids[0]", problem.GetProperty("errors")[0].GetProperty("field").GetString());
        subsets = await (await admin.GetAsync("/api/datasets/custom/subsets")).JsonAsync();
        Assert.DoesNotContain("bad", subsets.EnumerateArray().Select(s => s.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Writes_need_the_admin_role()
    {
        using var anonymous = fixture.App.Anonymous();
        using var reviewer = await fixture.App.UserAsync("datasets-reviewer", "reviewer");
        var body = new { slug = "forbidden", name = "x", classes = new[] { "n01440764" } };
        await (await anonymous.PostAsJsonAsync("/api/datasets", body)).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await reviewer.PostAsJsonAsync("/api/datasets", body)).ProblemAsync(HttpStatusCode.Forbidden);
        await (await reviewer.PutAsync("/api/datasets/forbidden/classes", Text("n01440764"))).ProblemAsync(HttpStatusCode.Forbidden);
        await (await anonymous.PostAsJsonAsync("/api/datasets/x/subsets", new { name = "x", includeRoot = "n02084071" }))
            .ProblemAsync(HttpStatusCode.Unauthorized);
        using var forged = fixture.App.WithToken("rl_not-a-real-token");
        await (await forged.PostAsJsonAsync("/api/datasets", body)).ProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.GetAsync("/api/datasets/forbidden")).ProblemAsync(HttpStatusCode.NotFound);
        await (await anonymous.GetAsync("/api/datasets/x/subsets")).ProblemAsync(HttpStatusCode.NotFound);
    }
}
