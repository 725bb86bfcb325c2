using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Relabel.Bench;

/// <summary>
/// What a person waits for, in Debian's headless Chromium (driven by Playwright, as the browser tests are) against the
/// real API process serving the demo: navigation start to the leaderboard table rendered with rows, on a fresh browser
/// context each round (a first visit: empty cache), and Enter on the review desk to the next image shown. The
/// references are the plain HTTP requests behind them, timed in the same run over loopback.
/// </summary>
public sealed class UiBenchmark : IBenchmark
{
    public string Name => "ui";

    private const string ChromiumPath = "/usr/bin/chromium";
    private const string DemoPassword = "bench-demo-password";
    private const int BoardRounds = 15;
    private const int ReviewRounds = 25;

    /// <summary>Records performance.now() (ms since navigation start) when the first leaderboard row is in the page.</summary>
    private const string BoardProbe =
        """
        (() => {
          const seen = () => { if (window.__boardAt === undefined && document.querySelector('table tr[data-slug]')) window.__boardAt = performance.now(); };
          new MutationObserver(seen).observe(document, { childList: true, subtree: true });
        })();
        """;

    /// <summary>
    /// Enter (seen first, in the capture phase) starts a clock; it stops when the review panel shows another image id and
    /// that image has loaded.
    /// </summary>
    private const string ReviewProbe =
        """
        (() => {
          window.__next = [];
          let start = null, from = null;
          const panel = () => document.querySelector('[data-testid=review-panel][data-image-id]');
          window.addEventListener('keydown', (e) => {
            // Only on the desk (not the sign-in form's Enter that leads there).
            if (e.key !== 'Enter' || start !== null || !panel()) return;
            start = performance.now(); from = panel()?.dataset.imageId ?? null;
          }, true);
          const check = () => {
            const p = panel();
            if (start === null || !p || p.dataset.imageId === from) return;
            const img = document.querySelector('[data-testid=review-image]');
            // Shown: the picture of the new image (not the previous one's) has loaded.
            if (!img || !img.getAttribute('src')?.includes(`/images/${p.dataset.imageId}/`)) return;
            const done = () => { if (start !== null) { window.__next.push(performance.now() - start); start = null; } };
            if (!(img.complete && img.naturalWidth > 0)) img.addEventListener('load', done, { once: true }); else done();
          };
          new MutationObserver(check).observe(document, { attributes: true, attributeFilter: ['data-image-id', 'src'], childList: true, subtree: true });
        })();
        """;

    public async Task RunAsync(BenchContext context)
    {
        if (!File.Exists(ChromiumPath)) throw new InvalidOperationException($"{ChromiumPath} is missing: apt-get install chromium.");
        await using var demo = await context.StartAnotherAsync("ui-demo", new Dictionary<string, string>
        {
            ["Relabel__Demo"] = "true",
            ["Relabel__DemoPassword"] = DemoPassword,
        });
        await WaitForBoardAsync(demo);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            ChromiumSandbox = false,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var baseUrl = demo.BaseAddress.ToString().TrimEnd('/');

        // The board: a new context per round has an empty cache, as a first visit does. Round 0 warms the server.
        var board = new List<double>();
        var boardJson = new List<double>();
        for (var round = 0; round <= BoardRounds; round++)
        {
            await using var browserContext = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new() { Width = 1440, Height = 900 } });
            var page = await browserContext.NewPageAsync();
            await page.AddInitScriptAsync(BoardProbe);
            await page.GotoAsync("/leaderboard");
            await page.WaitForFunctionAsync("() => window.__boardAt !== undefined", null, new() { Timeout = 60_000 });
            var at = await page.EvaluateAsync<double>("() => window.__boardAt");
            var watch = Stopwatch.StartNew();
            (await demo.Admin.GetAsync("/api/leaderboard", context.CancellationToken)).EnsureSuccessStatusCode();
            var json = watch.Elapsed.TotalMilliseconds;
            if (round == 0) continue;
            board.Add(at);
            boardJson.Add(json);
        }
        BenchContext.Report("ui_first_board_ms", Median(board), "F1");
        BenchContext.Report("ui_first_board_reference_board_json_ms", Median(boardJson), "F1");

        // The review desk: the demo reviewer marks every candidate correct with "1" and submits with Enter.
        await using var reviewContext = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new() { Width = 1440, Height = 900 } });
        var review = await reviewContext.NewPageAsync();
        review.SetDefaultTimeout(60_000);
        await review.AddInitScriptAsync(ReviewProbe);
        await review.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/review?dataset=demo-val"));
        await review.GetByTestId("signin-name").FillAsync("demo-reviewer");
        await review.GetByTestId("signin-password").FillAsync(DemoPassword);
        await review.Keyboard.PressAsync("Enter");
        var panel = review.Locator("[data-testid=review-panel][data-image-id]");
        for (var round = 0; round <= ReviewRounds; round++)
        {
            await panel.WaitForAsync();
            var id = await panel.GetAttributeAsync("data-image-id");
            await review.WaitForFunctionAsync("() => { const img = document.querySelector('[data-testid=review-image]'); return !img || (img.complete && img.naturalWidth > 0); }");
            var rows = await review.GetByTestId("review-row").CountAsync();
            for (var i = 0; i < rows; i++) await review.Keyboard.PressAsync("1");
            await review.Keyboard.PressAsync("Enter");
            await review.WaitForFunctionAsync($"n => window.__next.length >= n", round + 1);
            if (await panel.GetAttributeAsync("data-image-id") == id) throw new InvalidOperationException($"The review desk stayed on image {id}.");
        }
        var next = JsonSerializer.Deserialize<double[]>(await review.EvaluateAsync<string>("() => JSON.stringify(window.__next)"))!.Skip(1).ToList();

        var nextJson = new List<double>();
        for (var round = 0; round <= ReviewRounds; round++)
        {
            var watch = Stopwatch.StartNew();
            (await demo.Admin.GetAsync("/api/review/next?dataset=demo-val", context.CancellationToken)).EnsureSuccessStatusCode();
            if (round > 0) nextJson.Add(watch.Elapsed.TotalMilliseconds);
        }
        BenchContext.Report("ui_next_image_ms", Median(next), "F1");
        BenchContext.Report("ui_next_image_reference_next_json_ms", Median(nextJson), "F1");
    }

    /// <summary>The demo's predictions are seeded after the API is healthy: wait until the board has rows.</summary>
    private static async Task WaitForBoardAsync(BenchContext demo)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            var response = await demo.Admin.GetAsync("/api/leaderboard", demo.CancellationToken);
            if (response.IsSuccessStatusCode)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(demo.CancellationToken));
                if (json.RootElement.TryGetProperty("rows", out var rows) && rows.GetArrayLength() > 0) return;
            }
            await Task.Delay(500, demo.CancellationToken);
        }
        throw new TimeoutException("The demo's leaderboard has no rows after 5 minutes.");
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) throw new InvalidOperationException("No samples.");
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
