using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;

namespace Relabel.Api.Tests.Faults;

/// <summary>Several API processes share the jobs table: a start fails only the jobs whose process has stopped.</summary>
public sealed class JobRunnersTests
{
    [Fact]
    public async Task Another_process_starting_leaves_a_running_job_alone_and_fails_one_whose_process_is_gone()
    {
        var database = await TestDatabase.CreateAsync();
        try
        {
            using var first = new RelabelApp(database);
            var jobs = first.Services.GetRequiredService<JobQueue>();
            var gate = new TaskCompletionSource();
            var adminId = await first.ScalarAsync<long>("select id from users where name = 'admin'");
            var running = await jobs.EnqueueAsync("test-long", null, adminId, 1, async _ => { await gate.Task; return new { done = true }; });
            // A job whose process died a while ago (its runner stopped marking it alive).
            var orphan = await first.ScalarAsync<long>(
                """
                insert into jobs (kind, created_by, status, started_at, runner, heartbeat_at)
                values ('test-orphan', @adminId, 'running', now() - interval '10 minutes', gen_random_uuid(), now() - interval '10 minutes')
                returning id
                """,
                new { adminId });

            // Another API process starts on the same database.
            using (var second = new RelabelApp(database))
            {
                _ = second.Services;
                Assert.NotEqual(jobs.Runner, second.Services.GetRequiredService<JobQueue>().Runner);
                var deadline = DateTime.UtcNow.AddSeconds(15);
                while (DateTime.UtcNow < deadline && await StatusAsync(first, orphan) != "failed") await Task.Delay(100);
                Assert.Equal("running", await StatusAsync(first, running));
                Assert.Equal("failed", await StatusAsync(first, orphan));
                Assert.Contains("stopped", await first.ScalarAsync<string>("select message from jobs where id = @orphan", new { orphan }));
            }

            gate.SetResult();
            var done = DateTime.UtcNow.AddSeconds(15);
            while (DateTime.UtcNow < done && await StatusAsync(first, running) != "succeeded") await Task.Delay(50);
            Assert.Equal("succeeded", await StatusAsync(first, running));
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            await TestDatabase.DropAsync(database);
        }
    }

    private static Task<string> StatusAsync(RelabelApp app, long job) => app.ScalarAsync<string>("select status from jobs where id = @job", new { job });
}
