using Dapper;
using Relabel.Api.Features.Demo;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Predictions;

public sealed class DemoFixture : ApiFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Relabel:Demo"] = "true" };
}

public sealed class DemoPredictionsTests(DemoFixture fixture) : IClassFixture<DemoFixture>
{
    private sealed record Accuracy(string Model, string Kind, string Dataset, int K, double Top1, double DogMistakesAmongDogs);

    [Fact]
    public async Task The_demo_models_are_less_accurate_on_the_shifted_set_and_confuse_siblings()
    {
        await using var connection = await fixture.App.Db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<Accuracy>(
            """
            select m.slug as model, m.kind, d.slug as dataset, s.k::int as k,
                   avg((c.wnid = i.original_wnid)::int)::float8 as top1,
                   coalesce(avg((c.wnid = any(@Dogs))::int) filter (where c.wnid <> i.original_wnid and i.original_wnid = any(@Dogs)), 0)::float8
                       as dog_mistakes_among_dogs
            from prediction_sets s
            join models m on m.id = s.model_id
            join datasets d on d.id = s.dataset_id
            join predictions p on p.upload_id = s.upload_id
            join images i on i.id = p.image_id
            join label_space_classes c on c.label_space_id = d.label_space_id and c.class_index = p.labels[1]
            group by m.slug, m.kind, d.slug, s.k
            """,
            new { DemoSeeder.Dogs })).ToList();

        Assert.Equal(DemoPredictionsSeeder.Models.Length * 2, rows.Count);
        Assert.Contains(rows, r => r.Kind == "human" && r.K == 1);
        foreach (var model in DemoPredictionsSeeder.Models)
        {
            var val = rows.Single(r => r.Model == model.Slug && r.Dataset == DemoSeeder.Validation);
            var v2 = rows.Single(r => r.Model == model.Slug && r.Dataset == DemoSeeder.Shifted);
            Assert.InRange(val.Top1, model.Accuracy - 0.06, model.Accuracy + 0.06);
            Assert.True(v2.Top1 < val.Top1, $"{model.Slug}: {v2.Top1} on v2, {val.Top1} on val");
            Assert.True(val.DogMistakesAmongDogs > 0.6, $"{model.Slug}: {val.DogMistakesAmongDogs} of dog mistakes are dogs");
        }
        Assert.True(rows.Select(r => r.Top1).Distinct().Count() > 8);

        // The demo reviewer has decided most of them (DemoVerdictsSeeder); the items exist either way.
        var items = await connection.ExecuteScalarAsync<long>("select count(*) from review_items");
        Assert.True(items > 3000, $"{items} review items");
    }
}
