using System.Diagnostics;
using System.Net;
using System.Text;
using Dapper;
using Npgsql;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Operations;

/// <summary>The backup and restore procedure of docs/operations.md, run on a small database.</summary>
public sealed class BackupRestoreTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static string PgBin(string tool)
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d).Select(d => Path.Combine(d, "bin", tool))
            : [];
        return candidates.FirstOrDefault(File.Exists) ?? tool;
    }

    private static async Task RunAsync(string tool, params string[] args)
    {
        var server = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString);
        var start = new ProcessStartInfo(PgBin(tool)) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-h", server.Host!, "-p", server.Port.ToString(), "-U", server.Username! }.Concat(args)) start.ArgumentList.Add(a);
        // As the API's role, with its password from the cluster's pgpass file (as docs/operations.md does it).
        if (server.Passfile is { } passfile) start.Environment["PGPASSFILE"] = passfile;
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} failed: {error}");
    }

    private static async Task<(long Synsets, long Images, long Users, string Labels)> SnapshotAsync(string database)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionString(database));
        return await connection.QuerySingleAsync<(long, long, long, string)>(
            """
            select (select count(*) from synsets), (select count(*) from images), (select count(*) from users),
                   (select string_agg(file_name || '=' || original_wnid, ',' order by file_name) from images)
            """);
    }

    [Fact]
    public async Task A_pg_dump_restores_into_an_empty_database_with_the_same_content()
    {
        using var admin = fixture.App.Admin();
        await TestData.CreateDatasetAsync(admin, "backup", ["n01440764", "n02085620"]);
        var manifest = await admin.PostAsync("/api/datasets/backup/images/manifest",
            new StringContent("a.JPEG,0\nb.JPEG,1\nc.JPEG,n02085620\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);

        var dump = Path.Combine(Path.GetTempPath(), $"relabel-{Guid.NewGuid():N}.dump");
        var restored = "relabel_restore_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            await RunAsync("pg_dump", "-Fc", "-f", dump, fixture.App.Database);
            await TestDatabase.CreateEmptyAsync(restored);
            await RunAsync("pg_restore", "--no-owner", "-d", restored, dump);

            var before = await SnapshotAsync(fixture.App.Database);
            var after = await SnapshotAsync(restored);
            Assert.Equal(before, after);
            Assert.Equal(82_115, after.Synsets);
            Assert.Contains("b.JPEG=n02085620", after.Labels);

            // The restored database serves the API as it is: nothing left to migrate.
            using var app = new RelabelApp(restored);
            var ready = await (await app.Anonymous().GetAsync("/api/health/ready")).JsonAsync();
            Assert.Equal("ready", ready.GetProperty("status").GetString());
            var images = await (await app.Anonymous().GetAsync("/api/images?dataset=backup")).JsonAsync();
            Assert.Equal(3, images.GetProperty("items").GetArrayLength());
        }
        finally
        {
            File.Delete(dump);
            NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(restored);
        }
    }
}
