using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

/// <summary>The API with the demo on a real Kestrel port, and Debian's Chromium driven by Playwright.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public RelabelApp App { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium ('make test' installs it).");
        App = new RelabelApp(await TestDatabase.CreateAsync(), new Dictionary<string, string?> { ["Relabel:Demo"] = "true" });
        App.UseKestrel(0);
        App.StartServer();
        BaseUrl = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        App.ClientBaseAddress = new Uri(BaseUrl);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl });
        var page = await context.NewPageAsync();
        // Patience, not a measure: the machine is shared, and a leaderboard recomputed under load can take seconds.
        // Every wait ends as soon as what it waits for is there.
        page.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return page;
    }

    /// <summary>A page at <paramref name="path"/> with the script errors it raises from then on.</summary>
    public async Task<(IPage Page, List<string> Errors)> OpenAsync(string path)
    {
        var page = await NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(path);
        return (page, errors);
    }

    /// <summary>
    /// Waits until the leaderboard page shows the board it asked for with its statistics: until then a later answer
    /// re-renders the table and the plot, replacing marks and moving the controls below them under a pointer.
    /// </summary>
    public static async Task BoardSettledAsync(IPage page) =>
        await Assertions.Expect(page.Locator("[data-settled=true]")).ToHaveCountAsync(1);

    /// <summary>The JSON the API answers to an anonymous GET of <paramref name="path"/>, which must succeed.</summary>
    public async Task<System.Text.Json.JsonElement> GetJsonAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
        var response = await http.GetAsync(path);
        var json = await response.JsonAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {json}");
        return json;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        var database = App.Database;
        await App.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await TestDatabase.DropAsync(database);
    }
}
