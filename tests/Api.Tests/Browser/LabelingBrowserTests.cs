using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Browser;

public sealed class LabelingBrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private const string Tench = "n01440764", Brambling = "n01530575", Chihuahua = "n02085620";

    [Fact]
    public async Task A_labeler_labels_three_images_by_search_and_by_the_wordnet_tree()
    {
        long taskId;
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        {
            taskId = await connection.ExecuteScalarAsync<long>(
                """
                insert into labeling_tasks (dataset_id, name, mode, part_size, selection, created_by)
                select id, 'Browser task', 'evaluation', 10, '{}', (select id from users where name = 'admin') from datasets where slug = 'demo-val'
                returning id
                """);
            await connection.ExecuteAsync(
                """
                insert into labeling_task_images (task_id, position, image_id)
                select @taskId, row_number() over (order by i.id), i.id
                from (select i.id from images i join datasets d on d.id = i.dataset_id where d.slug = 'demo-val' order by i.id limit 3) i;
                insert into labeling_task_labelers (task_id, user_id) select @taskId, id from users where name = 'demo-reviewer';
                """,
                new { taskId });
        }

        var page = await fixture.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/labeling"));
        await page.GetByTestId("signin-name").FillAsync("demo-reviewer");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.GetByTestId("labeling-tasks")).ToContainTextAsync("completed 0 of 3 images, 0 of 1 parts");
        await page.Locator($"[data-task-id='{taskId}'] a").ClickAsync();

        // Images 1 and 2 by search, with the keyboard only: "/" focuses the search, Enter picks, Enter answers.
        foreach (var (position, query, wnid) in new[] { (1, "tench", Tench), (2, "brambling", Brambling) })
        {
            await Assertions.Expect(page.Locator($"[data-testid=labeling-panel][data-position='{position}']")).ToHaveCountAsync(1);
            await page.Keyboard.PressAsync("/");
            await page.Keyboard.TypeAsync(query);
            await Assertions.Expect(page.Locator($"[data-testid=labeling-results] [data-wnid='{wnid}']")).ToHaveCountAsync(1);
            await page.Keyboard.PressAsync("Enter");
            await Assertions.Expect(page.GetByTestId("labeling-selected")).ToHaveTextAsync(query, new() { IgnoreCase = true });
            await page.Keyboard.PressAsync("Enter");
        }

        // Image 3 through the tree: expand each ancestor on a WordNet path from entity, then pick the class.
        await Assertions.Expect(page.Locator("[data-testid=labeling-panel][data-position='3']")).ToHaveCountAsync(1);
        var synset = JsonDocument.Parse(await (await page.APIRequest.GetAsync($"/api/synsets/{Chihuahua}")).TextAsync()).RootElement;
        var path = synset.GetProperty("paths")[0].EnumerateArray().Select(r => r.GetProperty("wnid").GetString()!).ToList();
        if (path[0] != "n00001740") path.Reverse();
        foreach (var ancestor in path.Skip(1).Where(w => w != Chihuahua))
            await page.Locator($"[data-testid=labeling-tree] li[data-wnid='{ancestor}'] > .tree-toggle").First.ClickAsync();
        await page.Locator($"[data-testid=labeling-tree] li[data-wnid='{Chihuahua}'] > button:not(.tree-toggle)").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("labeling-selected")).ToHaveTextAsync("Chihuahua");
        await page.GetByTestId("labeling-choose").ClickAsync();

        await Assertions.Expect(page.GetByTestId("labeling-progress")).ToContainTextAsync("completed 3 of 3 images, 1 of 1 parts");
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
        {
            var answers = (await connection.QueryAsync<string>(
                """
                select a.wnid from labeling_answers a join labeling_task_images i on i.task_id = a.task_id and i.image_id = a.image_id
                where a.task_id = @taskId order by i.position
                """,
                new { taskId })).ToList();
            Assert.Equal([Tench, Brambling, Chihuahua], answers);
            Assert.True(await connection.ExecuteScalarAsync<bool>(
                "select bool_and(seconds >= 0 and started_at <= answered_at) from labeling_answers where task_id = @taskId", new { taskId }));
        }
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task The_guide_is_browsed_by_wordnet_branch()
    {
        await using (var connection = await fixture.App.Db.OpenConnectionAsync())
            await connection.ExecuteAsync(
                """
                insert into guide_notes (wnid, body, updated_by) values ('n02085620', 'Browser guide note: *tiny*.', (select id from users where name = 'admin'))
                on conflict (wnid, coalesce(other_wnid, '')) do update set body = excluded.body
                """);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/sign-in?next=" + Uri.EscapeDataString("/guide"));
        await page.GetByTestId("signin-name").FillAsync("demo-reviewer");
        await page.GetByTestId("signin-password").FillAsync(TestDatabase.DemoPassword);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=guide-branches] li")).Not.ToHaveCountAsync(0);
        await page.GotoAsync("/guide?under=n02084071");
        await Assertions.Expect(page.GetByTestId("guide-entries")).ToContainTextAsync("Browser guide note: tiny.");
        await Assertions.Expect(page.GetByTestId("guide-crumbs")).ToContainTextAsync("dog");
        await Assertions.Expect(page.GetByTestId("guide-editor")).ToBeHiddenAsync();
    }
}
