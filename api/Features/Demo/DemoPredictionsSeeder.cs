using System.Diagnostics;
using Dapper;
using Npgsql;
using Relabel.Api.Features.Models;
using Relabel.Api.Features.Predictions;

namespace Relabel.Api.Features.Demo;

/// <summary>
/// Demo models with generated predictions on both demo datasets, owned by demo-uploader and stored through the
/// upload path (so review items exist). Mistakes are mostly WordNet siblings (a dog breed for another dog breed),
/// a second object in the picture is a frequent "mistake" that a reviewer would accept, and every model loses
/// accuracy on demo-v2. The same on every run (seeded).
/// </summary>
public sealed class DemoPredictionsSeeder(NpgsqlDataSource db, PredictionFollowups followups, ILogger<DemoPredictionsSeeder> logger)
{
    public sealed record DemoModel(string Slug, string DisplayName, string Kind, string TrainingData, long? Parameters, double Accuracy, double Drop, int K);

    public static readonly DemoModel[] Models =
    [
        new("demo-alexnet", "AlexNet (demo)", ModelKinds.Model, "imagenet-1k", 61_100_840, 0.57, 0.13, 5),
        new("demo-vgg16", "VGG-16 (demo)", ModelKinds.Model, "imagenet-1k", 138_357_544, 0.72, 0.12, 5),
        new("demo-resnet50", "ResNet-50 (demo)", ModelKinds.Model, "imagenet-1k", 25_557_032, 0.76, 0.12, 5),
        new("demo-efficientnet-b7", "EfficientNet-B7 (demo)", ModelKinds.Model, "imagenet-1k", 66_347_960, 0.84, 0.10, 5),
        new("demo-vit-l16-jft", "ViT-L/16, JFT-300M (demo)", ModelKinds.ModelExtraData, "jft-300m", 304_326_632, 0.88, 0.07, 5),
        new("demo-clip-vit-l14", "CLIP ViT-L/14 zero-shot (demo)", ModelKinds.ModelExtraData, "laion-like", 427_616_513, 0.80, 0.04, 5),
        new("demo-ensemble", "Top-3 ensemble (demo)", ModelKinds.Ensemble, "jft-300m", null, 0.89, 0.08, 5),
        new("demo-human-a", "Human labeler A (demo)", ModelKinds.Human, "", null, 0.93, 0.02, 1),
        new("demo-human-b", "Human labeler B (demo)", ModelKinds.Human, "", null, 0.90, 0.03, 1),
    ];

    public async Task SeedIfMissingAsync()
    {
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<bool>("select exists (select 1 from models where slug = @slug)", new { slug = Models[0].Slug }))
            return;
        var started = Stopwatch.StartNew();
        var ownerId = await connection.ExecuteScalarAsync<long>("select id from users where name = 'demo-uploader'");
        var datasets = new List<(long Id, IReadOnlyList<DemoImage> Images, long[] ImageIds, bool Shifted)>();
        foreach (var slug in new[] { DemoSeeder.Validation, DemoSeeder.Shifted })
        {
            var datasetId = await connection.ExecuteScalarAsync<long>("select id from datasets where slug = @slug", new { slug });
            var ids = (await connection.QueryAsync<(string FileName, long Id)>(
                "select file_name, id from images where dataset_id = @datasetId", new { datasetId })).ToDictionary(r => r.FileName, r => r.Id);
            var images = DemoSeeder.Images(slug);
            datasets.Add((datasetId, images, images.Select(i => ids[i.FileName]).ToArray(), slug == DemoSeeder.Shifted));
        }

        foreach (var model in Models)
        {
            var modelId = await connection.ExecuteScalarAsync<long>(
                """
                insert into models (slug, display_name, kind, description, parameter_count, training_data, tags, owner_id)
                values (@Slug, @DisplayName, @Kind, 'Generated predictions for the demo.', @Parameters, @TrainingData, array['demo'], @ownerId)
                returning id
                """,
                new { model.Slug, model.DisplayName, model.Kind, model.Parameters, model.TrainingData, ownerId });
            foreach (var (datasetId, images, imageIds, shifted) in datasets)
            {
                var random = new Random(StableSeed(model.Slug + (shifted ? ":v2" : ":val")));
                var accuracy = shifted ? model.Accuracy - model.Drop : model.Accuracy;
                var rows = images.Select((image, i) => new PredictionRow(imageIds[i], Predict(image, accuracy, model.K, random), null)).ToList();
                await PredictionStore.ApplyAsync(db, followups,
                    new PredictionUpload(modelId, datasetId, ownerId, "json", Partial: false, model.K, rows), Stopwatch.StartNew());
            }
        }
        // The demo verdicts that follow need the review items.
        await followups.EnsureDoneAsync();
        logger.LogInformation("Demo predictions of {Models} models loaded in {Seconds:F1} s", Models.Length, started.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Ranked class indices: the true class with probability <paramref name="accuracy"/>, else a plausible confusion.
    /// Mistakes are shared as real models' are: each image has a difficulty, a model errs on the images harder than its
    /// accuracy allows (with some noise), and most models that err on an image choose the same confusion.
    /// </summary>
    public static short[] Predict(DemoImage image, double accuracy, int k, Random random)
    {
        var classes = DemoSeeder.Classes;
        var group = DemoSeeder.Dogs.Contains(image.Wnid) ? DemoSeeder.Dogs
            : DemoSeeder.OtherOrganisms.Contains(image.Wnid) ? DemoSeeder.OtherOrganisms
            : DemoSeeder.Objects;
        var own = new Random(StableSeed(image.FileName));
        var difficulty = own.NextDouble();
        var usualConfusion = image.SecondWnid is not null && own.Next(2) == 0 ? image.SecondWnid
            : own.NextDouble() < 0.85 ? group[own.Next(group.Length)] : classes[own.Next(classes.Length)];
        var ranked = new List<string>(k);
        void Add(string wnid) { if (ranked.Count < k && !ranked.Contains(wnid)) ranked.Add(wnid); }

        // Difficulty is uniform, so with noise of ±0.15 a model is right on about its accuracy's share of images.
        if (difficulty + 0.3 * (random.NextDouble() - 0.5) < accuracy) Add(image.Wnid);
        else if (random.NextDouble() < 0.7 && usualConfusion != image.Wnid) Add(usualConfusion);
        else Add(random.NextDouble() < 0.8 ? group[random.Next(group.Length)] : classes[random.Next(classes.Length)]);
        // The rest: the true class if missed, the second object, then siblings.
        if (random.NextDouble() < 0.9) Add(image.Wnid);
        if (image.SecondWnid is not null) Add(image.SecondWnid);
        while (ranked.Count < k) Add(random.NextDouble() < 0.85 ? group[random.Next(group.Length)] : classes[random.Next(classes.Length)]);
        return ranked.Select(w => (short)Array.IndexOf(classes, w)).ToArray();
    }

    private static int StableSeed(string text)
    {
        var hash = 23;
        foreach (var c in text) hash = unchecked(hash * 31 + c);
        return hash & 0x7FFFFFFF;
    }
}
