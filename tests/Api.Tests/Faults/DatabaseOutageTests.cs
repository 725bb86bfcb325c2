using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Relabel.Api.Infrastructure;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Faults;

/// <summary>
/// Stops and restarts a real PostgreSQL cluster of its own under a running API. How long the answers and the recovery
/// take is measured by make bench (database_outage_503_seconds, database_outage_recovery_seconds), not here.
/// </summary>
[Collection(nameof(Relabel.Api.Tests.Operations.OwnClustersCollection))]
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    private static readonly string Cluster = Path.Combine(RepositoryRoot.Find(AppContext.BaseDirectory), "db", "cluster.sh");

    private static async Task<string> ClusterAsync(string name, int port, string command)
    {
        var start = new ProcessStartInfo("bash", [Cluster, command]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["RELABEL_PG_NAME"] = name;
        start.Environment["RELABEL_PG_PORT"] = port.ToString();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"cluster.sh {command}: {error}");
        return (await output).Trim();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Requests_get_503_while_PostgreSQL_is_down_and_service_resumes_by_itself()
    {
        var name = "outage-" + Guid.NewGuid().ToString("N")[..8];
        var port = FreePort();
        await ClusterAsync(name, port, "start");
        try
        {
            // The cluster's own role and password file, as "make run" connects.
            var connection = await ClusterAsync(name, port, "connection");
            using var app = new RelabelApp("relabel", new Dictionary<string, string?>
            {
                ["ConnectionStrings:Relabel"] = $"{connection};Database=relabel;Timeout=3;Command Timeout=30",
            });
            using var client = app.Anonymous();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/datasets")).StatusCode);

            await ClusterAsync(name, port, "stop");
            await (await client.GetAsync("/api/datasets")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
            await (await client.GetAsync("/api/synsets/n02084071")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
            var health = await (await client.GetAsync("/api/health")).ProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Equal("down", health.GetProperty("database").GetString());

            // Nobody restarts the API: it must find the database again by itself. The deadline only keeps a broken
            // recovery from hanging the suite; it is far above any real recovery time.
            await ClusterAsync(name, port, "start");
            var back = Stopwatch.StartNew();
            HttpStatusCode status;
            do
            {
                status = (await client.GetAsync("/api/datasets")).StatusCode;
                if (status != HttpStatusCode.OK) await Task.Delay(100);
            } while (status != HttpStatusCode.OK && back.Elapsed < TimeSpan.FromMinutes(2));
            output.WriteLine($"service resumed {back.Elapsed.TotalSeconds:F2} s after PostgreSQL was back");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health")).StatusCode);
        }
        finally
        {
            await ClusterAsync(name, port, "destroy");
        }
    }
}
