using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using Npgsql;

namespace Relabel.Bench;

/// <summary>
/// A benchmark's world: a fresh database, the real API process (the built Relabel.Api.dll) serving it on a
/// loopback port, an admin client, and helpers to time psql and to watch the API's memory.
/// </summary>
public sealed class BenchContext : IAsyncDisposable
{
    public const string AdminToken = "rl_bench-admin-token-0123456789abcdefghijklmnop";

    private readonly Process _api;
    private readonly string _serverConnectionString;
    private readonly string _adminConnectionString;
    private readonly string _logPath;

    private BenchContext(Process api, string serverConnectionString, string adminConnectionString, string database, string logPath,
        Uri baseAddress, CancellationToken ct)
    {
        _api = api;
        _serverConnectionString = serverConnectionString;
        _adminConnectionString = adminConnectionString;
        _logPath = logPath;
        Database = database;
        BaseAddress = baseAddress;
        CancellationToken = ct;
        Admin = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public string Database { get; }
    public Uri BaseAddress { get; }
    public HttpClient Admin { get; }
    public CancellationToken CancellationToken { get; }
    public int ApiProcessId => _api.Id;
    public string ConnectionString => WithDatabase(_serverConnectionString, Database);
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>../shared/data beside the repository: the real ILSVRC-2012 class list and validation labels.</summary>
    public static string SharedData => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    /// <summary>The real ILSVRC-2012 validation set of ../shared/data: classes in index order, and each image's label.</summary>
    public sealed record Ilsvrc(string[] Classes, string[] Truth, string[] Files);

    /// <summary>Creates a dataset of the 1,000 ILSVRC-2012 classes and registers the 50,000 validation images by manifest.</summary>
    public async Task<Ilsvrc> RegisterIlsvrcValidationAsync(string slug)
    {
        var classes = File.ReadLines(Path.Combine(SharedData, "ilsvrc2012", "synsets.tsv")).Skip(1)
            .Select(line => line.Split('\t')).OrderBy(f => int.Parse(f[0])).Select(f => f[1]).ToArray();
        var truth = File.ReadAllLines(Path.Combine(SharedData, "ilsvrc2012", "val_labels.txt"));
        var files = truth.Select((_, i) => $"ILSVRC2012_val_{i + 1:D8}.JPEG").ToArray();
        (await Admin.PostAsJsonAsync("/api/datasets", new { slug, name = "ILSVRC-2012 validation", classes }, CancellationToken)).EnsureSuccessStatusCode();
        var manifest = string.Join("\n", files.Select((f, i) => $"{f},{truth[i]}"));
        (await Admin.PostAsync($"/api/datasets/{slug}/images/manifest",
            new StringContent(manifest, System.Text.Encoding.UTF8, "text/csv"), CancellationToken)).EnsureSuccessStatusCode();
        return new Ilsvrc(classes, truth, files);
    }

    /// <summary>Prints one figure as "bench: name = value".</summary>
    public static void Report(string name, double value, string format = "F3") =>
        Console.WriteLine($"bench: {name} = {value.ToString(format, CultureInfo.InvariantCulture)}");

    /// <summary>A second database and API process on the same server (an import target, say).</summary>
    /// <param name="environment">More settings for that API process (Relabel__Demo=true, say).</param>
    public Task<BenchContext> StartAnotherAsync(string name, IReadOnlyDictionary<string, string>? environment = null) =>
        StartAsync(_serverConnectionString, _adminConnectionString, name, CancellationToken, environment);

    /// <param name="serverConnectionString">The API's role: it owns the database and the API runs as it.</param>
    /// <param name="adminConnectionString">The cluster's superuser, only to create and drop the database.</param>
    /// <param name="environment">More settings for the API process.</param>
    public static async Task<BenchContext> StartAsync(string serverConnectionString, string adminConnectionString, string name, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var database = "bench_" + new string(name.Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant();
        var role = new NpgsqlConnectionStringBuilder(serverConnectionString).Username;
        await ExecuteAsync(adminConnectionString, $"drop database if exists {database} with (force)", ct);
        await ExecuteAsync(adminConnectionString, $"create database {database} owner {role}", ct);

        // The API runs in the configuration the benchmark was built in: Release under make bench.
        var configuration = typeof(BenchContext).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var dll = Path.Combine(RepositoryRoot, "api", "bin", configuration, "net10.0", "Relabel.Api.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build first (make bench does).");
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var logPath = Path.Combine(Path.GetTempPath(), $"relabel-{database}-{port}.log");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.Combine(RepositoryRoot, "api"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--urls", baseAddress.ToString().TrimEnd('/') }) start.ArgumentList.Add(arg);
        start.Environment["ConnectionStrings__Relabel"] = WithDatabase(serverConnectionString, database);
        start.Environment["RELABEL_ADMIN_TOKEN"] = AdminToken;
        start.Environment["RELABEL_ADMIN_PASSWORD"] = "bench-admin-password";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var api = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the API.");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        api.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        api.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        api.BeginOutputReadLine();
        api.BeginErrorReadLine();

        var context = new BenchContext(api, serverConnectionString, adminConnectionString, database, logPath, baseAddress, ct);
        try
        {
            await context.WaitUntilHealthyAsync(TimeSpan.FromMinutes(3));
        }
        catch
        {
            // Read the API's log before disposing: disposal deletes it.
            var apiLog = File.ReadAllText(logPath);
            await context.DisposeAsync();
            Console.Error.WriteLine(apiLog);
            throw;
        }
        return context;
    }

    private async Task WaitUntilHealthyAsync(TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (deadline.Elapsed < limit)
        {
            if (_api.HasExited) throw new InvalidOperationException($"The API exited with code {_api.ExitCode}; see {_logPath}.");
            try
            {
                if ((await probe.GetAsync("/api/health", CancellationToken)).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200, CancellationToken);
        }
        throw new TimeoutException($"The API did not become healthy within {limit}; see {_logPath}.");
    }

    /// <summary>The API's resident set now and its peak so far (VmRSS, VmHWM of /proc/PID/status), in MB.</summary>
    public (double RssMb, double PeakMb) Memory()
    {
        double Read(string key)
        {
            var line = File.ReadLines($"/proc/{ApiProcessId}/status").First(l => l.StartsWith(key + ":"));
            return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        return (Read("VmRSS"), Read("VmHWM"));
    }

    /// <summary>Runs an action while sampling the API's RSS every 10 ms; returns the highest sample in MB.</summary>
    public async Task<(T Result, double PeakRssMb)> WatchMemoryAsync<T>(Func<Task<T>> action)
    {
        var peak = Memory().RssMb;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, Memory().RssMb);
                try { await Task.Delay(10, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var result = await action();
        await stop.CancelAsync();
        await sampler;
        return (result, Math.Max(peak, Memory().RssMb));
    }

    /// <summary>Runs psql against the benchmark database with one command (-c) and returns the wall time in seconds.</summary>
    public async Task<double> RunPsqlAsync(string command)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var start = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // As the API's role (the same privileges and the same password file).
        if (builder.Passfile is { } passfile) start.Environment["PGPASSFILE"] = passfile;
        foreach (var arg in new[]
                 {
                     "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!,
                     "-d", Database, "-v", "ON_ERROR_STOP=1", "-q", "-c", command,
                 })
            start.ArgumentList.Add(arg);
        var watch = Stopwatch.StartNew();
        using var psql = Process.Start(start) ?? throw new InvalidOperationException("Cannot start psql.");
        var output = psql.StandardOutput.ReadToEndAsync(CancellationToken);
        var error = psql.StandardError.ReadToEndAsync(CancellationToken);
        await psql.WaitForExitAsync(CancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        if (psql.ExitCode != 0)
            throw new InvalidOperationException($"psql failed ({psql.ExitCode}): {await error}{await output}");
        return seconds;
    }

    public async Task<NpgsqlConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(CancellationToken);
        return connection;
    }

    /// <summary>The benchmark database as the cluster's superuser: for the harness's maintenance (a checkpoint), never the API's work.</summary>
    public async Task<NpgsqlConnection> OpenAdminConnectionAsync()
    {
        var connection = new NpgsqlConnection(WithDatabase(_adminConnectionString, Database));
        await connection.OpenAsync(CancellationToken);
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        if (!_api.HasExited)
        {
            _api.Kill(entireProcessTree: true);
            await _api.WaitForExitAsync();
        }
        _api.Dispose();
        NpgsqlConnection.ClearAllPools();
        // BENCH_KEEP_DATABASE=1 leaves the database behind for a look with psql.
        if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATABASE") is null)
            await ExecuteAsync(_adminConnectionString, $"drop database if exists {Database} with (force)", CancellationToken.None);
        if (Environment.GetEnvironmentVariable("BENCH_KEEP_LOG") is null) File.Delete(_logPath); else Console.WriteLine(File.ReadAllText(_logPath));
    }

    private static async Task ExecuteAsync(string serverConnectionString, string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(WithDatabase(serverConnectionString, "postgres"));
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string WithDatabase(string connectionString, string database) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Backend.sln"))) return dir.FullName;
        throw new InvalidOperationException("Backend.sln not found above the benchmark.");
    }
}
