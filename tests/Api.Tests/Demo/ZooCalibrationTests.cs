using System.Text.Json;
using Relabel.Api.Features.Demo;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Demo;

/// <summary>The timm zoo's synthetic predictions against the published figures, computed here from the shared labels.</summary>
public sealed class ZooCalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_models_top1_ReaL_and_ImageNetV2_accuracy_equal_the_published_figures()
    {
        var classes = TestData.IlsvrcClasses();
        var index = classes.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => (short)p.i);
        var original = File.ReadAllLines(Path.Combine(TestData.SharedData, "ilsvrc2012", "val_labels.txt")).Select(w => index[w.Trim()]).ToArray();
        var real = JsonSerializer.Deserialize<short[][]>(File.ReadAllText(Path.Combine(TestData.SharedData, "real", "real.json")))!;
        var models = ZooCalibration.ReadModels(Path.Combine(TestData.SharedData, "leaderboards"));
        Assert.Equal(1556, models.Count);
        Assert.Equal(models.Count, models.Select(m => m.Slug).Distinct().Count());
        var zoo = new ZooCalibration(original, real, classes.Length);
        var voted = Enumerable.Range(0, original.Length).Where(i => real[i].Length > 0).ToArray();
        var worst = new double[models.Count];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // Each model's predictions depend only on its own figures and index, so the models are checked in parallel.
        Parallel.For(0, models.Count, k =>
        {
            var model = models[k];
            var val = zoo.ImageNet(model, k);
            var v2 = zoo.ImageNetV2(model, k);
            var top1 = 100.0 * Enumerable.Range(0, val.Length).Count(i => val[i] == original[i]) / val.Length;
            var realAccuracy = 100.0 * voted.Count(i => real[i].Contains(val[i])) / voted.Length;
            var v2Top1 = 100.0 * Enumerable.Range(0, v2.Length).Count(i => v2[i] == i / 10) / v2.Length;
            foreach (var (got, published) in new[] { (top1, model.Top1), (realAccuracy, model.Real), (v2Top1, model.V2Top1) })
            {
                worst[k] = Math.Max(worst[k], Math.Abs(got - published));
                if (Math.Abs(got - published) > 0.1) failures.Add($"{model.Slug}: {got:F3} against {published:F3}");
            }
        });
        Assert.Empty(failures);
        output.WriteLine($"{models.Count} models, largest difference {worst.Max():F4} points, {watch.Elapsed.TotalSeconds:F1} s");
    }
}
