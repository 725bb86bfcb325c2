using System.Net;
using System.Net.Http.Json;
using Relabel.Api.Tests.Infrastructure;
using Relabel.Api.Tests.Review;
using Xunit;
using static Relabel.Api.Tests.Review.ReviewTestData;

namespace Relabel.Api.Tests.Labeling;

/// <summary>Submitting an evaluation task and publishing its answers are one unit: never submitted but unpublished.</summary>
public sealed class SubmitAtomicityTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private RelabelApp App => fixture.App;

    [Fact]
    public async Task A_crash_while_publishing_leaves_the_task_submittable_and_the_next_submit_publishes()
    {
        await CreateDatasetAsync(App, "atomic-labels", Classes[0], Classes[1]);
        using var labeler = await App.UserAsync("atomic-labeler");
        using var admin = App.Admin();
        var created = await admin.PostAsJsonAsync("/api/labeling/tasks",
            new { name = "e", dataset = "atomic-labels", mode = "evaluation", labelers = new[] { "atomic-labeler" }, fileNames = new[] { "img_1", "img_2" } });
        var task = (await created.JsonAsync()).GetProperty("id").GetInt64();
        for (var position = 1; position <= 2; position++)
            Assert.Equal(HttpStatusCode.OK, (await labeler.PutAsJsonAsync($"/api/labeling/tasks/{task}/items/{position}", new { wnid = Classes[1] })).StatusCode);

        // The database fails the publication half-way (the human model cannot be written), as a crash there would.
        await App.ExecuteAsync(
            """
            create function fail_human_models() returns trigger language plpgsql as $$
            begin raise exception 'simulated crash while publishing'; end $$;
            create trigger fail_human_models before insert on prediction_uploads for each row execute function fail_human_models();
            """);
        var failed = await labeler.PostAsync($"/api/labeling/tasks/{task}/submit", null);
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(0, await App.ScalarAsync<long>(
            "select count(*) from labeling_task_labelers where task_id = @task and submitted_at is not null", new { task }));

        await App.ExecuteAsync("drop trigger fail_human_models on prediction_uploads; drop function fail_human_models()");
        Assert.Equal(HttpStatusCode.OK, (await labeler.PostAsync($"/api/labeling/tasks/{task}/submit", null)).StatusCode);
        Assert.Equal(2, await App.ScalarAsync<int>(
            """
            select s.rows from prediction_sets s join models m on m.id = s.model_id
            where m.slug = 'human-atomic-labeler'
            """));
        await (await labeler.PostAsync($"/api/labeling/tasks/{task}/submit", null)).ProblemAsync(HttpStatusCode.Conflict);
    }
}
