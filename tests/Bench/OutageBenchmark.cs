using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Relabel.Bench;

/// <summary>
/// PostgreSQL stopped and started again under a running API, on a cluster of the benchmark's own: how long a request
/// takes to be answered 503 while the database is down (a data request and the health check), and how long after
/// the database is back the API serves again by itself. The test suite checks only that it does (DatabaseOutageTests,
/// HealthTests).
/// </summary>
public sealed class OutageBenchmark : IBenchmark
{
    public string Name => "outage";

    private static readonly string Cluster = Path.Combine(BenchContext.RepositoryRoot, "db", "cluster.sh");

    public async Task RunAsync(BenchContext context)
    {
        var ct = context.CancellationToken;
        var name = "bench-outage";
        var port = FreePort();
        await ClusterAsync(name, port, "destroy", ct);
        await ClusterAsync(name, port, "start", ct);
        try
        {
            // The cluster's own role and superuser, as make bench passes them for its cluster.
            var server = (await ClusterAsync(name, port, "connection", ct)).Trim() + ";Timeout=3;Command Timeout=30";
            var admin = (await ClusterAsync(name, port, "admin-connection", ct)).Trim() + ";Timeout=3;Command Timeout=30";
            await using var api = await BenchContext.StartAsync(server, admin, "outage", ct);
            var client = api.Admin;
            Ensure(await client.GetAsync("/api/datasets", ct), HttpStatusCode.OK);

            await ClusterAsync(name, port, "stop", ct);
            NpgsqlConnection.ClearAllPools();
            var watch = Stopwatch.StartNew();
            Ensure(await client.GetAsync("/api/datasets", ct), HttpStatusCode.ServiceUnavailable);
            BenchContext.Report("database_outage_503_seconds", watch.Elapsed.TotalSeconds);
            watch.Restart();
            Ensure(await client.GetAsync("/api/health", ct), HttpStatusCode.ServiceUnavailable);
            BenchContext.Report("health_database_down_seconds", watch.Elapsed.TotalSeconds);

            await ClusterAsync(name, port, "start", ct);
            watch.Restart();
            while ((await client.GetAsync("/api/datasets", ct)).StatusCode != HttpStatusCode.OK)
            {
                if (watch.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("The API did not serve again within 2 minutes.");
                await Task.Delay(20, ct);
            }
            BenchContext.Report("database_outage_recovery_seconds", watch.Elapsed.TotalSeconds);
        }
        finally
        {
            await ClusterAsync(name, port, "destroy", CancellationToken.None);
        }
    }

    private static void Ensure(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode}, expected {(int)expected}");
    }

    private static async Task<string> ClusterAsync(string name, int port, string command, CancellationToken ct)
    {
        var start = new ProcessStartInfo("bash", [Cluster, command]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["RELABEL_PG_NAME"] = name;
        start.Environment["RELABEL_PG_PORT"] = port.ToString();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot run cluster.sh.");
        var error = process.StandardError.ReadToEndAsync(ct);
        var output = await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw new InvalidOperationException($"cluster.sh {command}: {await error}");
        return output;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
