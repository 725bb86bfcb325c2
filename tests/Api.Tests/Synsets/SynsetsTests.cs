using System.Net;
using Dapper;
using Relabel.Api.Features.Synsets;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Synsets;

public sealed class SynsetsTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Every_WordNet_noun_synset_is_loaded_once()
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal(82_115, await connection.ExecuteScalarAsync<int>("select count(*) from synsets"));
        // Instance hypernyms count as hypernyms: Einstein is an instance of physicist.
        var einstein = await connection.QuerySingleAsync<string[]>(
            "select hypernyms from synsets where lemmas[1] = 'Einstein'");
        Assert.Contains("n10428004", einstein);
    }

    [Fact]
    public async Task Dog_has_its_lemma_and_gloss()
    {
        using var client = fixture.App.Anonymous();
        var dog = await (await client.GetAsync("/api/synsets/n02084071")).JsonAsync();
        Assert.Equal("dog", dog.GetProperty("lemmas")[0].GetString());
        Assert.Equal("domestic dog", dog.GetProperty("lemmas")[1].GetString());
        Assert.StartsWith("a member of the genus Canis", dog.GetProperty("gloss").GetString());
    }

    [Fact]
    public async Task The_hypernym_path_of_chihuahua_reaches_entity()
    {
        using var client = fixture.App.Anonymous();
        var chihuahua = await (await client.GetAsync("/api/synsets/n02085620")).JsonAsync();
        var paths = chihuahua.GetProperty("paths").EnumerateArray().ToList();
        Assert.NotEmpty(paths);
        foreach (var path in paths)
        {
            var wnids = path.EnumerateArray().Select(n => n.GetProperty("wnid").GetString()).ToList();
            Assert.Equal(SynsetsApi.Entity, wnids[0]);
            Assert.Equal("n02085620", wnids[^1]);
            Assert.Contains("n02084071", wnids);
        }
    }

    [Fact]
    public async Task Hypernym_paths_follow_every_parent()
    {
        var parents = new Dictionary<string, string[]> { ["c"] = ["a", "b"], ["a"] = ["root"], ["b"] = ["root"], ["root"] = [] };
        var paths = SynsetsApi.HypernymPaths("c", w => parents[w]);
        Assert.Equal([["root", "a", "c"], ["root", "b", "c"]], paths);
    }

    [Fact]
    public async Task Search_ranks_the_exact_lemma_first()
    {
        using var client = fixture.App.Anonymous();
        var hits = await (await client.GetAsync("/api/synsets?q=Dog&limit=10")).JsonAsync();
        Assert.Equal(10, hits.GetArrayLength());
        Assert.Equal("dog", hits[0].GetProperty("lemmas")[0].GetString());
        // Every hit holds the text, case-insensitively.
        foreach (var hit in hits.EnumerateArray())
            Assert.Contains(hit.GetProperty("lemmas").EnumerateArray(), l => l.GetString()!.Contains("dog", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Search_finds_substrings_and_prefixes()
    {
        using var client = fixture.App.Anonymous();
        var hits = await (await client.GetAsync("/api/synsets?q=huahu&limit=5")).JsonAsync();
        Assert.Contains(hits.EnumerateArray(), h => h.GetProperty("wnid").GetString() == "n02085620");
        var prefix = await (await client.GetAsync("/api/synsets?q=ch&limit=5")).JsonAsync();
        foreach (var hit in prefix.EnumerateArray())
            Assert.Contains(hit.GetProperty("lemmas").EnumerateArray(), l => l.GetString()!.StartsWith("ch", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Search_within_a_dataset_returns_only_its_classes_with_their_index()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "search-space", ["n02085620", "n02084071", "n01440764"]);
        var hits = await (await admin.GetAsync("/api/synsets?q=dog&dataset=search-space")).JsonAsync();
        Assert.Equal(["n02084071"], hits.EnumerateArray().Select(h => h.GetProperty("wnid").GetString()));
        Assert.Equal(1, hits[0].GetProperty("classIndex").GetInt32());
    }

    [Fact]
    public async Task Children_within_a_label_space_lead_to_its_classes()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "children-space", ["n02085620", "n02086240", "n01440764"]);
        var dog = await (await admin.GetAsync("/api/synsets/n02084071?dataset=children-space")).JsonAsync();
        var children = dog.GetProperty("children").EnumerateArray().ToList();
        // Both toy dogs sit under toy dog (n02085374); tench is not under dog at all.
        Assert.Single(children);
        Assert.Equal("n02085374", children[0].GetProperty("wnid").GetString());
        Assert.Equal(2, children[0].GetProperty("classesBelow").GetInt32());
    }

    [Fact]
    public async Task Bad_queries_are_problems()
    {
        using var client = fixture.App.Anonymous();
        await (await client.GetAsync("/api/synsets/n99999999")).ProblemAsync(HttpStatusCode.NotFound);
        var limit = await (await client.GetAsync("/api/synsets?q=dog&limit=0")).ProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.True(limit.HasFieldError("limit"), limit.ToString());
        await (await client.GetAsync("/api/synsets?q=dog&dataset=nope")).ProblemAsync(HttpStatusCode.NotFound);
        await (await client.GetAsync("/api/synsets?q=dog&limit=abc")).ProblemAsync(HttpStatusCode.BadRequest);
        await (await client.GetAsync("/api/no-such-endpoint")).ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public void Data_lines_parse_lemmas_gloss_and_hypernyms()
    {
        var line = "02085620 05 n 02 Chihuahua 0 Chihuahua_dog 0 002 @ 02085374 n 0000 #m 02084071 n 0000 | an old breed of tiny short-haired dog  ";
        var synset = WordNetLoader.ParseLine(line)!;
        Assert.Equal("n02085620", synset.Wnid);
        Assert.Equal(["Chihuahua", "Chihuahua dog"], synset.Lemmas);
        Assert.Equal(["n02085374"], synset.Hypernyms);
        Assert.Equal("an old breed of tiny short-haired dog", synset.Gloss);
        Assert.Null(WordNetLoader.ParseLine("  1 This software and database is being provided"));
    }
}
