using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using static Relabel.Api.Tests.Predictions.PredictionData;

namespace Relabel.Api.Tests.Faults;

/// <summary>Clients that send their uploads slowly hold no database connection while they do.</summary>
public sealed class SlowClientTests : IAsyncLifetime
{
    private const int PoolSize = 6;
    private const int Trickles = 10;
    private string _database = "";
    private RelabelApp? _app;
    private RelabelApp App => _app!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // A pool much smaller than the number of slow senders, so that holding connections would exhaust it.
        _app = new RelabelApp(_database, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Relabel"] = TestDatabase.ConnectionString(_database) + $";Maximum Pool Size={PoolSize}",
        });
        _ = _app.Services;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        Npgsql.NpgsqlConnection.ClearAllPools();
        await TestDatabase.DropAsync(_database);
    }

    [Fact]
    public async Task Uploads_that_trickle_in_leave_health_and_the_leaderboard_answering()
    {
        using var admin = App.Admin();
        await CreateDatasetAsync(admin, "trickle", images: 900);
        var models = Enumerable.Range(0, Trickles).Select(i => $"trickle-{i}").ToList();
        foreach (var model in models) await CreateModelAsync(admin, model);

        // Each sends most of a valid body at once (its first rows are complete and valid) and then nothing, for now.
        var json = Json(Rows(900, 2));
        var split = json.IndexOf(Image(800), StringComparison.Ordinal);
        var pipes = new List<Pipe>();
        var uploads = new List<Task<HttpResponseMessage>>();
        foreach (var model in models)
        {
            var pipe = new Pipe();
            var content = new StreamContent(pipe.Reader.AsStream());
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var client = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
                { AllowAutoRedirect = false, HandleCookies = false, BaseAddress = App.ClientBaseAddress });
            client.DefaultRequestHeaders.Authorization = admin.DefaultRequestHeaders.Authorization;
            client.Timeout = TimeSpan.FromMinutes(2);
            uploads.Add(PutAsync(client, model, "trickle", content));
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(json[..split]));
            pipes.Add(pipe);
        }
        await Task.Delay(TimeSpan.FromSeconds(2));

        using var reader = App.Anonymous();
        reader.Timeout = TimeSpan.FromSeconds(30);
        for (var i = 0; i < 3; i++)
        {
            var health = await reader.GetAsync("/api/health");
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"health: {(int)health.StatusCode} {await health.Content.ReadAsStringAsync()}");
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/leaderboard?dataset=trickle")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/datasets")).StatusCode);
        }

        // The slow senders finish, and every upload is stored.
        foreach (var pipe in pipes)
        {
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(json[split..]));
            await pipe.Writer.CompleteAsync();
        }
        foreach (var upload in uploads) Assert.Equal(HttpStatusCode.OK, (await upload).StatusCode);
        Assert.Equal(Trickles, await CountAsync(App, "select count(*) from prediction_sets s join datasets d on d.id = s.dataset_id where d.slug = 'trickle'"));
    }
}
