using System.Net;
using Dapper;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Predictions;

/// <summary>
/// Readers of review items wait for the follow-ups of their own dataset's earlier uploads only: a lab streaming its model
/// zoo into one dataset does not stop review and the leaderboard of another.
/// </summary>
public sealed class FollowupLivenessTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    [Fact]
    public async Task Review_and_the_board_of_another_dataset_answer_while_uploads_stream_into_one_whose_follow_ups_cannot_finish()
    {
        using var admin = App.Admin();
        foreach (var slug in new[] { "streamed", "quiet" }) await CreateDatasetAsync(admin, slug, images: 20);
        await CreateModelAsync(admin, "quiet-model");
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(admin, "quiet-model", "quiet", Body(Json(Rows(20, 1)), "application/json"))).StatusCode);
        for (var m = 0; m < 3; m++) await CreateModelAsync(admin, $"zoo-{m}");
        using var reviewer = await App.UserAsync("liveness-reviewer", "reviewer");
        reviewer.Timeout = TimeSpan.FromSeconds(30);
        using var reader = App.Anonymous();
        reader.Timeout = TimeSpan.FromSeconds(30);
        Assert.Equal(HttpStatusCode.OK, (await reviewer.GetAsync("/api/review/next?dataset=quiet")).StatusCode);

        // Another writer holds an uncommitted review item that every follow-up of "streamed" must also insert (image 0 with
        // its original label): those follow-ups wait for it, as slow ones would, for as long as it stays open.
        await using var blocker = await App.Db.OpenConnectionAsync();
        await using var held = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync(
            """
            insert into review_items (image_id, wnid)
            select i.id, @wnid from images i join datasets d on d.id = i.dataset_id where d.slug = 'streamed' and i.file_name = @file
            """,
            new { wnid = Classes[0], file = Image(0) }, held);

        using var stop = new CancellationTokenSource();
        var uploads = 0;
        var stream = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var response = await PutAsync(admin, $"zoo-{i % 3}", "streamed", Body(Json(Rows(20, 1, shift: i)), "application/json"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Interlocked.Increment(ref uploads);
                await Task.Delay(100);
            }
        });
        try
        {
            while (Volatile.Read(ref uploads) < 3) await Task.Delay(50);
            for (var round = 0; round < 5; round++)
            {
                // Each of these would wait for every pending follow-up if readers waited globally: here they must not.
                var next = await reviewer.GetAsync("/api/review/next?dataset=quiet");
                Assert.True(next.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"review next: {next.StatusCode}");
                Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/leaderboard?dataset=quiet")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/leaderboard?dataset=quiet&alpha=0.{round + 1}")).StatusCode);
                await Task.Delay(100);
            }

            // A reader of the streamed dataset still waits for that dataset's earlier follow-ups: it never sees an
            // upload without its review items.
            var streamed = reviewer.GetAsync("/api/review/next?dataset=streamed");
            Assert.NotSame(streamed, await Task.WhenAny(streamed, Task.Delay(TimeSpan.FromSeconds(1))));
            await held.RollbackAsync();
            Assert.Equal(HttpStatusCode.OK, (await streamed).StatusCode);
        }
        finally
        {
            stop.Cancel();
            await stream;
        }
        await App.FollowupsDoneAsync();
        Assert.Equal(0, await CountAsync(App, "select count(*) from prediction_followups"));
        // Every current set's top-1 labels have their review items.
        Assert.Equal(0, await CountAsync(App,
            """
            select count(*) from prediction_sets s
            join datasets d on d.id = s.dataset_id
            join predictions p on p.upload_id = s.upload_id
            join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = p.labels[1]
            where not exists (select from review_items r where r.image_id = p.image_id and r.wnid = c.wnid)
            """));
    }
}
