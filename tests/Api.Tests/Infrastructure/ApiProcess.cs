using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;

namespace Relabel.Api.Tests.Infrastructure;

/// <summary>
/// The API as its own operating-system process (the built Relabel.Api.dll, as "make run" starts it), on a loopback
/// port: for what an in-process server cannot show, such as the process's memory, its standard output, or two API
/// processes sharing one database.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ApiProcess(Process process, Uri baseAddress, string imageRoot)
    {
        _process = process;
        BaseAddress = baseAddress;
        ImageRoot = imageRoot;
    }

    public Uri BaseAddress { get; }

    /// <summary>Where the process writes credentials it generates (never a terminal in tests).</summary>
    public string InitialSecretsPath => Path.Combine(ImageRoot, "initial-secrets.txt");
    public string ImageRoot { get; }
    public int Id => _process.Id;

    /// <summary>Everything the process wrote to standard output and standard error, line by line.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <param name="database">A test database (TestDatabase.CreateAsync).</param>
    /// <param name="settings">Configuration as "Section:Name" keys (passed as environment variables).</param>
    /// <param name="knownAdmin">Give the first admin the test's known credentials (else the process generates them).</param>
    /// <param name="connectionString">A whole connection string instead (a cluster of the test's own), ignoring database.</param>
    public static async Task<ApiProcess> StartAsync(string database, IDictionary<string, string?>? settings = null, bool knownAdmin = true,
        string? imageRoot = null, string? connectionString = null)
    {
        var root = TestDatabase.RepositoryPath("");
        var configuration = typeof(ApiProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(root, "api", "bin", configuration, "net10.0", "Relabel.Api.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first ('make test' does).");
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        imageRoot ??= Path.Combine(Path.GetTempPath(), "relabel-tests", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.Combine(root, "api"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--urls", baseAddress.ToString().TrimEnd('/') }) start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Relabel"] = connectionString ?? TestDatabase.ConnectionString(database);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Relabel__ImageRoot"] = imageRoot;
        start.Environment["Relabel__SignInAttemptsPerMinute"] = "1000";
        start.Environment["Relabel__DemoPassword"] = TestDatabase.DemoPassword;
        start.Environment["Relabel__InitialSecretsPath"] = Path.Combine(imageRoot, "initial-secrets.txt");
        start.Environment["Relabel__InitialSecretsOnTerminal"] = "false";
        start.Environment.Remove("RELABEL_ADMIN_TOKEN");
        start.Environment.Remove("RELABEL_ADMIN_PASSWORD");
        if (knownAdmin)
        {
            start.Environment["RELABEL_ADMIN_TOKEN"] = TestDatabase.AdminToken;
            start.Environment["RELABEL_ADMIN_PASSWORD"] = TestDatabase.AdminPassword;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            start.Environment[key.Replace(":", "__")] = value;

        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the API.");
        var api = new ApiProcess(process, baseAddress, imageRoot);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) api._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) api._output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await api.WaitUntilHealthyAsync(TimeSpan.FromMinutes(2));
        }
        catch
        {
            await api.DisposeAsync();
            throw;
        }
        return api;
    }

    private async Task WaitUntilHealthyAsync(TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (watch.Elapsed < limit)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The API exited with code {_process.ExitCode}:\n{string.Join("\n", _output)}");
            try
            {
                if ((await probe.GetAsync("/api/health/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The API did not become ready within {limit}:\n{string.Join("\n", _output)}");
    }

    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient WithToken(string token)
    {
        var client = Anonymous();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient Admin() => WithToken(TestDatabase.AdminToken);

    /// <summary>The process's resident set now and its peak so far (VmRSS, VmHWM), in MB.</summary>
    public (double RssMb, double PeakMb) Memory()
    {
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        double Read(string key) =>
            long.Parse(status.First(l => l.StartsWith(key + ":")).Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        return (Read("VmRSS"), Read("VmHWM"));
    }

    /// <summary>Stops the process as an operator would (SIGTERM: in-flight requests finish), or kills it.</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process.HasExited) return;
        if (kill) _process.Kill(entireProcessTree: true);
        else
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await term!.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (Directory.Exists(ImageRoot)) Directory.Delete(ImageRoot, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
