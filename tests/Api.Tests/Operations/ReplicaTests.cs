using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Predictions;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Operations;

/// <summary>
/// A lab's read layout: a primary and a streaming replica (PostgreSQL's physical replication, made by
/// db/cluster.sh replica-of), one API process on each. Writes go to the primary; the replica's process serves the board
/// and reaches the primary's label version, and refuses writes.
/// </summary>
[Collection(nameof(OwnClustersCollection))]
public sealed class ReplicaTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static async Task<string> ClusterAsync(string name, int port, params string[] args)
    {
        var start = new ProcessStartInfo(TestDatabase.RepositoryPath("db/cluster.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["RELABEL_PG_NAME"] = name;
        start.Environment["RELABEL_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"db/cluster.sh {string.Join(' ', args)} ({name}): {await output}{await error}");
        return (await output).Trim();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<JsonElement> BoardAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/leaderboard?dataset=replicated");
        return response.StatusCode == HttpStatusCode.OK ? await response.JsonAsync() : default;
    }

    private static async Task<JsonElement> EventuallyAsync(HttpClient replica, Func<JsonElement, bool> arrived, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            var board = await BoardAsync(replica);
            if (board.ValueKind == JsonValueKind.Object && arrived(board)) return board;
            await Task.Delay(100);
        }
        Assert.Fail($"{what} did not reach the replica's board within {Patience.TotalSeconds} s.");
        return default;
    }

    [Fact]
    public async Task The_replicas_API_process_serves_the_board_at_the_primarys_label_version_and_refuses_writes()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (primaryName, replicaName) = ($"replica-test-primary-{suffix}", $"replica-test-standby-{suffix}");
        var (primaryPort, replicaPort) = (FreePort(), FreePort());
        try
        {
            await ClusterAsync(primaryName, primaryPort, "start");
            var primaryConnection = await ClusterAsync(primaryName, primaryPort, "connection") + ";Database=relabel";
            await using var primary = await ApiProcess.StartAsync("", connectionString: primaryConnection);
            await ClusterAsync(replicaName, replicaPort, "replica-of", primaryName, primaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await ClusterAsync(replicaName, replicaPort, "start");
            var replicaConnection = await ClusterAsync(replicaName, replicaPort, "connection") + ";Database=relabel";
            await using var replica = await ApiProcess.StartAsync("", new Dictionary<string, string?> { ["Relabel:ReadReplica"] = "true" },
                connectionString: replicaConnection);

            // Through the primary: a dataset, a model's predictions, and a reviewer.
            using var admin = primary.Admin();
            await PredictionData.CreateDatasetAsync(admin, "replicated", images: 6);
            await PredictionData.CreateModelAsync(admin, "replicated-model");
            Assert.Equal(HttpStatusCode.OK, (await PredictionData.PutAsync(admin, "replicated-model", "replicated",
                PredictionData.Body(PredictionData.Json(PredictionData.Rows(6, 1, shift: 1)), "application/json"))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/users",
                new { name = "replica-reviewer", roles = new[] { "reviewer" }, password = "replica-reviewer-password" })).StatusCode);
            var token = (await (await admin.PostAsJsonAsync("/api/users/replica-reviewer/tokens", new { name = "t" })).JsonAsync())
                .GetProperty("token").GetString()!;
            using var reviewer = primary.WithToken(token);

            using var reader = replica.Anonymous();
            var before = await EventuallyAsync(reader, b => b.GetProperty("rows").EnumerateArray().Any(r => r.GetProperty("slug").GetString() == "replicated-model"),
                "The model's upload");
            var versionBefore = before.GetProperty("labelVersion").GetInt64();
            Assert.Equal(0, before.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == "replicated-model")
                .GetProperty("multiLabel").GetProperty("decided").GetInt64());

            // A verdict on the primary: the replica's board reaches its label version and counts it.
            JsonElement review = default;
            var deadline = DateTime.UtcNow + Patience;
            while (DateTime.UtcNow < deadline)
            {
                var next = await reviewer.GetAsync("/api/review/next?dataset=replicated");
                if (next.StatusCode == HttpStatusCode.OK && (review = await next.JsonAsync()).GetProperty("labels").GetArrayLength() == 2) break;
                await Task.Delay(100);
            }
            var verdicts = review.GetProperty("labels").EnumerateArray().ToDictionary(l => l.GetProperty("wnid").GetString()!, _ => "correct");
            var submitted = await reviewer.SubmitAsync(review, verdicts);
            Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
            var primaryVersion = (await (await primary.Anonymous().GetAsync("/api/leaderboard?dataset=replicated")).JsonAsync()).GetProperty("labelVersion").GetInt64();
            Assert.True(primaryVersion > versionBefore);
            var after = await EventuallyAsync(reader, b => b.GetProperty("labelVersion").GetInt64() == primaryVersion, "The verdict's label version");
            Assert.Equal(1, after.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("slug").GetString() == "replicated-model")
                .GetProperty("multiLabel").GetProperty("decided").GetInt64());
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/models/replicated-model/results?dataset=replicated")).StatusCode);

            // Writes are refused by the replica's process, with a problem that says where they go; nothing reached the database.
            using var adminOnReplica = replica.Admin();
            var refused = await adminOnReplica.PostAsJsonAsync("/api/models", new { slug = "written-on-replica", displayName = "x", kind = "model" });
            var problem = await refused.ProblemAsync(HttpStatusCode.ServiceUnavailable);
            Assert.Contains("primary", problem.GetProperty("detail").GetString());
            Assert.Equal(HttpStatusCode.NotFound, (await primary.Anonymous().GetAsync("/api/models/written-on-replica")).StatusCode);
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await ClusterAsync(replicaName, replicaPort, "destroy");
            await ClusterAsync(primaryName, primaryPort, "destroy");
        }
    }
}

/// <summary>
/// Tests that start PostgreSQL clusters and API processes of their own (initdb, a base backup, WordNet loads) run alone,
/// after the parallel classes, as the bundle tests do: their bursts of CPU made other classes' connection attempts time out.
/// </summary>
[CollectionDefinition(nameof(OwnClustersCollection), DisableParallelization = true)]
public sealed class OwnClustersCollection;
