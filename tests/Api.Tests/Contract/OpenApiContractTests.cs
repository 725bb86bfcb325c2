using Relabel.Api.Infrastructure;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Contract;

public sealed class OpenApiContractTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task The_committed_openapi_yaml_matches_the_code()
    {
        var committed = Path.Combine(RepositoryRoot.Find(AppContext.BaseDirectory), "openapi.yaml");
        var generated = await OpenApi.YamlAsync(fixture.App.Services);
        Assert.True(File.Exists(committed), "openapi.yaml is missing: run 'make openapi'.");
        Assert.True((await File.ReadAllTextAsync(committed)).ReplaceLineEndings("\n") == generated,
            "openapi.yaml differs from the API: run 'make openapi' and commit the result.");
    }

    [Fact]
    public async Task Swagger_UI_and_the_served_document_are_available()
    {
        using var client = fixture.App.Anonymous();
        Assert.True((await client.GetAsync("/swagger/index.html")).IsSuccessStatusCode);
        var yaml = await client.GetStringAsync("/swagger/v1/swagger.yaml");
        Assert.Contains("/api/synsets", yaml);
    }
}
