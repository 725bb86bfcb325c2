using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Features.Demo;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class ImportsBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_admin_imports_a_multilabel_release_and_watches_the_job_finish()
    {
        var images = DemoSeeder.Images(DemoSeeder.Validation).Take(5).ToList();
        var release = new JsonObject
        {
            ["initial_annots"] = new JsonObject(images.Select(i => KeyValuePair.Create<string, JsonNode?>(i.FileName,
                new JsonObject { ["correct"] = new JsonArray(i.Wnid), ["wrong"] = new JsonArray(), ["unclear"] = new JsonArray() }))),
            ["problematic_images"] = new JsonObject(),
            ["imagenet_m"] = new JsonArray(),
        };

        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/sign-in");
        // Imports is in the navigation for admins only.
        var importsLink = page.GetByTestId("nav").Locator("a[href='/imports']");
        await Assertions.Expect(importsLink).ToHaveCountAsync(1);
        await Assertions.Expect(importsLink).ToBeHiddenAsync();
        await page.GetByTestId("signin-name").FillAsync("demo-admin");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.GetByTestId("signin-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();

        await page.GetByTestId("nav").GetByRole(AriaRole.Link, new() { Name = "Imports" }).ClickAsync();
        await page.WaitForURLAsync("**/imports");
        // A form whose every field has a label.
        await page.GetByLabel("Dataset").SelectOptionAsync("demo-val");
        await page.GetByLabel("What").SelectOptionAsync("multilabel");
        await page.GetByLabel("Source name").FillAsync("browser-test");
        await page.GetByTestId("import-file").SetInputFilesAsync(new FilePayload
        {
            Name = "release.json",
            MimeType = "application/json",
            Buffer = Encoding.UTF8.GetBytes(release.ToJsonString()),
        });
        await page.GetByTestId("import-start").ClickAsync();
        await Assertions.Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Done.", new() { Timeout = 30_000 });
        Assert.Equal("1", await page.GetByTestId("job-progress").GetAttributeAsync("value") ?? (await page.GetByTestId("job-progress").EvaluateAsync<double>("p => p.value")).ToString());
        await Assertions.Expect(page.GetByTestId("job-result")).ToContainTextAsync("\"events\": 5");

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        Assert.Equal(5, await connection.ExecuteScalarAsync<int>(
            "select count(*) from verdict_events e join verdict_sources s on s.id = e.source_id where s.name = 'import:browser-test'"));
    }

    [Fact]
    public async Task An_admin_downloads_a_bundle_and_importing_it_back_adds_nothing()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/sign-in");
        await page.GetByTestId("signin-name").FillAsync("demo-admin");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.GetByTestId("signin-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("current-user")).ToBeVisibleAsync();

        await page.GotoAsync("/imports");
        await page.GetByTestId("import-dataset").SelectOptionAsync("demo-v2");
        await Assertions.Expect(page.GetByTestId("export-bundle")).ToHaveAttributeAsync("href", "/api/datasets/demo-v2/export/bundle");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-bundle").ClickAsync());
        Assert.Equal("demo-v2-bundle.tar.gz", download.SuggestedFilename);
        var path = await download.PathAsync();
        var bundle = await File.ReadAllBytesAsync(path);
        Assert.Equal(0x1f, bundle[0]);

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        const string Events = "select (select count(*) from verdict_events) + (select count(*) from image_flag_events)";
        var events = await connection.ExecuteScalarAsync<long>(Events);

        // A damaged file: the problem names the archive, and nothing starts.
        await page.GetByTestId("import-kind").SelectOptionAsync("bundle");
        await Assertions.Expect(page.GetByTestId("import-dataset")).ToBeDisabledAsync();
        await page.GetByTestId("import-file").SetInputFilesAsync(new FilePayload { Name = "broken.tar.gz", MimeType = "application/gzip", Buffer = bundle[..100] });
        await page.GetByTestId("import-start").ClickAsync();
        await Assertions.Expect(page.GetByTestId("problem")).ToContainTextAsync("(archive)");

        await page.GetByTestId("import-file").SetInputFilesAsync(new FilePayload { Name = "demo-v2-bundle.tar.gz", MimeType = "application/gzip", Buffer = bundle });
        await page.GetByTestId("import-start").ClickAsync();
        await Assertions.Expect(page.GetByTestId("job-status")).ToHaveTextAsync("Done.", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("job-result")).ToContainTextAsync("\"verdictsAdded\": 0");
        Assert.Equal(events, await connection.ExecuteScalarAsync<long>(Events));
    }
}
