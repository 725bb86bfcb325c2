using System.Text;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Features.Demo;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class SubmitBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task An_uploader_sees_the_errors_of_a_bad_file_then_the_result_of_a_good_one()
    {
        var page = await fixture.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/submit"));
        await page.GetByTestId("signin-name").FillAsync("demo-uploader");
        await page.GetByTestId("signin-password").FillAsync(Relabel.Api.Tests.Infrastructure.TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("submit-form")).ToBeVisibleAsync();

        await page.GetByTestId("submit-model").SelectOptionAsync("__new__");
        await page.GetByTestId("new-model-slug").FillAsync("browser-submit");
        await page.GetByTestId("new-model-name").FillAsync("Browser submit");
        await page.GetByTestId("submit-dataset").SelectOptionAsync(DemoSeeder.Validation);
        await page.GetByTestId("submit-partial").CheckAsync();

        // A file naming an image the dataset lacks and a class it lacks: a table of its errors, with their lines.
        var images = DemoSeeder.Images(DemoSeeder.Validation).Take(2).ToList();
        var bad = $"{{\"image\":\"{images[0].FileName}\",\"labels\":[\"{images[0].Wnid}\"]}}\n" +
                  "{\"image\":\"no-such-image.JPEG\",\"labels\":[\"n01440764\"]}\n" +
                  $"{{\"image\":\"{images[1].FileName}\",\"labels\":[\"n99999999\"]}}\n";
        await page.GetByTestId("submit-file").SetInputFilesAsync(new FilePayload
            { Name = "bad.ndjson", MimeType = "application/x-ndjson", Buffer = Encoding.UTF8.GetBytes(bad) });
        await page.GetByTestId("submit-upload").ClickAsync();
        var errors = page.Locator("[data-testid=submit-errors] tbody tr");
        await Assertions.Expect(errors).ToHaveCountAsync(2);
        await Assertions.Expect(errors.Nth(0)).ToContainTextAsync("no-such-image.JPEG");
        await Assertions.Expect(errors.Nth(0).Locator("td").First).ToHaveTextAsync("2");
        await Assertions.Expect(errors.Nth(1)).ToContainTextAsync("n99999999");
        await Assertions.Expect(errors.Nth(1).Locator("td").First).ToHaveTextAsync("3");
        await Assertions.Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("submit-result")).ToBeHiddenAsync();

        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        const string Stored = "select count(*) from prediction_uploads u join models m on m.id = u.model_id where m.slug = 'browser-submit'";
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(Stored));
        // A new model is made only by a successful first upload: the bad file left none behind.
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from models where slug = 'browser-submit'"));
        // The template for a model without predictions there: every image of the dataset, label cells empty.
        await Assertions.Expect(page.GetByTestId("submit-template"))
            .ToHaveAttributeAsync("href", $"/api/datasets/{DemoSeeder.Validation}/prediction-template");

        // The good file, checked only: valid, and still nothing stored (no model either).
        var good = string.Concat(images.Select(i => $"{{\"image\":\"{i.FileName}\",\"labels\":[\"{i.Wnid}\"]}}\n"));
        await page.GetByTestId("submit-file").SetInputFilesAsync(new FilePayload
            { Name = "good.ndjson", MimeType = "application/x-ndjson", Buffer = Encoding.UTF8.GetBytes(good) });
        await page.GetByTestId("submit-check").ClickAsync();
        await Assertions.Expect(page.GetByTestId("submit-result").Locator("h2")).ToContainTextAsync("Checked: the file is valid");
        await Assertions.Expect(errors).ToHaveCountAsync(0);
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from models where slug = 'browser-submit'"));

        // Uploaded: the result, and the errors gone.
        await page.GetByTestId("submit-upload").ClickAsync();
        var result = page.GetByTestId("submit-result");
        await Assertions.Expect(result).ToBeVisibleAsync();
        await Assertions.Expect(result.Locator("h2")).ToHaveTextAsync("Predictions stored");
        await Assertions.Expect(result).ToContainTextAsync($"browser-submit / {DemoSeeder.Validation}");
        await Assertions.Expect(result.Locator("dt:text-is('Images') + dd")).ToHaveTextAsync("2");
        await Assertions.Expect(errors).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("problem")).ToBeHiddenAsync();

        Assert.Equal(1, await connection.ExecuteScalarAsync<long>(Stored));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>(
            "select s.rows from prediction_sets s join models m on m.id = s.model_id where m.slug = 'browser-submit'"));
        // Now the template is the model's own predictions on the dataset.
        await Assertions.Expect(page.GetByTestId("submit-template"))
            .ToHaveAttributeAsync("href", $"/api/models/browser-submit/predictions/{DemoSeeder.Validation}?format=csv");
        Assert.Empty(scriptErrors);
    }
}
