using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Relabel.Api.Infrastructure;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Faults;

/// <summary>The API as a real process, killed with SIGKILL in the middle of a large prediction upload, again and again.</summary>
public sealed class KillDuringUploadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Images = 20_000;
    private const int K = 5;
    private static readonly string Dll = Path.Combine(RepositoryRoot.Find(AppContext.BaseDirectory), "api", "bin", "Debug", "net10.0", "Relabel.Api.dll");

    private readonly string _imageRoot = Path.Combine(Path.GetTempPath(), "relabel-kill", Guid.NewGuid().ToString("N"));
    private readonly int _port = FreePort();
    private string _database = "";
    private Process? _api;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        Kill();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await TestDatabase.DropAsync(_database);
        if (Directory.Exists(_imageRoot)) Directory.Delete(_imageRoot, recursive: true);
    }

    private Uri BaseAddress => new($"http://127.0.0.1:{_port}");

    private HttpClient Admin()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestDatabase.AdminToken);
        return client;
    }

    /// <summary>Starts the API and waits for readiness; returns how long that took.</summary>
    private async Task<TimeSpan> StartAsync()
    {
        var watch = Stopwatch.StartNew();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(Dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Dll, "--urls", BaseAddress.ToString().TrimEnd('/') }) start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Relabel"] = TestDatabase.ConnectionString(_database);
        start.Environment["RELABEL_ADMIN_TOKEN"] = TestDatabase.AdminToken;
        start.Environment["Relabel__ImageRoot"] = _imageRoot;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        _api = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the API.");
        _api.OutputDataReceived += (_, _) => { };
        _api.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.WriteLine("api stderr: " + e.Data); };
        _api.BeginOutputReadLine();
        _api.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(_api.HasExited, $"the API exited with code {(_api.HasExited ? _api.ExitCode : 0)} while starting");
            try
            {
                if ((await probe.GetAsync("/api/health/ready")).StatusCode == HttpStatusCode.OK) return watch.Elapsed;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException("The API did not become ready within 60 s.");
    }

    private void Kill()
    {
        if (_api is null) return;
        if (!_api.HasExited)
        {
            _api.Kill(); // SIGKILL: no shutdown hooks, no graceful drain.
            _api.WaitForExit();
        }
        _api.Dispose();
        _api = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Top-k predictions for every image, the labels starting at class (i * 7 + shift) mod 1000.</summary>
    private static Dictionary<string, string> Set(int shift, string[] classes) =>
        Enumerable.Range(0, Images).ToDictionary(i => $"img_{i:D5}.JPEG",
            i => string.Join(",", Enumerable.Range(0, K).Select(j => classes[(i * 7 + shift + j) % classes.Length])));

    private static string Csv(Dictionary<string, string> set) =>
        "image," + string.Join(",", Enumerable.Range(1, K).Select(j => $"label{j}")) + "\n" +
        string.Concat(set.Select(r => $"{r.Key},{r.Value}\n"));

    private static HttpContent Body(string csv) => new StringContent(csv, Encoding.UTF8, "text/csv");

    private static async Task<Dictionary<string, string>> CurrentAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/models/kill-model/predictions/kill?format=csv");
        if (response.StatusCode == HttpStatusCode.NotFound) return [];
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1);
        return lines.Select(l => l.Split(',', 2)).ToDictionary(f => f[0], f => f[1]);
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b) =>
        a.Count == b.Count && a.All(r => b.TryGetValue(r.Key, out var v) && v == r.Value);

    [Fact]
    public async Task Killing_the_API_mid_upload_leaves_the_old_set_or_the_new_one_whole_and_it_restarts_cleanly()
    {
        var total = Stopwatch.StartNew();
        await StartAsync();
        var classes = TestData.IlsvrcClasses();
        using (var admin = Admin())
        {
            await TestData.CreateDatasetAsync(admin, "kill", classes);
            var manifest = string.Concat(Enumerable.Range(0, Images).Select(i => $"img_{i:D5}.JPEG,{classes[i % classes.Length]}\n"));
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/datasets/kill/images/manifest", new StringContent(manifest, Encoding.UTF8, "text/csv"))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/models", new { slug = "kill-model", displayName = "Kill", kind = "model" })).StatusCode);
        }
        Dictionary<string, string>[] sets = [Set(0, classes), Set(1, classes)];
        string[] bodies = [Csv(sets[0]), Csv(sets[1])];
        using (var admin = Admin())
        {
            var watch = Stopwatch.StartNew();
            var first = await admin.PutAsync("/api/models/kill-model/predictions/kill", Body(bodies[0]));
            Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
            output.WriteLine($"a whole upload of {Images} x {K} ({bodies[0].Length / 1e6:F1} MB) takes {watch.ElapsedMilliseconds} ms");
        }

        var current = 0;
        // Milliseconds after the upload starts; -1: only once it has answered (a kill after the commit).
        int[] delays = [50, 100, 200, 400, 700, 1000, 1200, 1350, 1500, 1600, 1700, 1800, 2000, 2500, -1];
        var outcomes = new List<string>();
        foreach (var delay in delays)
        {
            var next = 1 - current;
            HttpStatusCode? status = null;
            using (var admin = Admin())
            {
                var upload = admin.PutAsync("/api/models/kill-model/predictions/kill", Body(bodies[next]));
                if (delay >= 0) await Task.Delay(delay);
                else await upload;
                Kill();
                try { status = (await upload).StatusCode; }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
            }
            var restart = await StartAsync();
            using var client = Admin();
            var stored = await CurrentAsync(client);
            var outcome = Same(stored, sets[next]) ? "new" : Same(stored, sets[current]) ? "old" : $"MIXED ({stored.Count} rows)";
            outcomes.Add(outcome);
            output.WriteLine($"killed {(delay >= 0 ? $"at {delay,5} ms" : "after the answer")}: response {(status is null ? "none" : ((int)status).ToString())}, stored set {outcome}, ready again after {restart.TotalSeconds:F1} s");
            if (delay < 0) Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(outcome is "new" or "old", $"after a kill at {delay} ms the model has a mixture: {stored.Count} rows");
            if (status == HttpStatusCode.OK) Assert.Equal("new", outcome);
            if (outcome == "new") current = next;
        }
        Kill();
        output.WriteLine($"{delays.Length} kills in {total.Elapsed.TotalSeconds:F1} s: {outcomes.Count(o => o == "old")} old, {outcomes.Count(o => o == "new")} new");
        Assert.Contains("old", outcomes);
        Assert.Contains("new", outcomes);
    }
}
