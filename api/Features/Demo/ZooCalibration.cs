using System.Globalization;
using nietras.SeparatedValues;

namespace Relabel.Api.Features.Demo;

/// <summary>One model of pytorch-image-models' published results: top-1 on ImageNet, on ReaL labels and on ImageNetV2.</summary>
public sealed record ZooModel(string Name, int ImageSize, double Top1, double Real, double V2Top1, double? ParameterMillions)
{
    /// <summary>The same weights are published at several image sizes: the size is part of the slug.</summary>
    public string Slug
    {
        get
        {
            var text = new string($"{Name}-{ImageSize}".ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
            while (text.Contains("--")) text = text.Replace("--", "-");
            return text.Trim('-')[..Math.Min(63, text.Trim('-').Length)];
        }
    }

    /// <summary>Markers of pretraining beyond ImageNet-1k in timm's model names, and what they mean.</summary>
    public static readonly (string Marker, string Data)[] ExtraData =
    [
        ("in22k", "imagenet-22k"), ("in21k", "imagenet-21k"), ("laion", "laion"), ("jft", "jft-300m"), ("ig1b", "instagram-1b"),
        ("_ig", "instagram"), ("swsl", "instagram-1b"), ("ssl", "yfcc-100m"), ("clip", "clip"), ("openai", "openai-clip"),
        ("m38m", "merged-38m"), ("cc12m", "cc12m"), ("dfn", "dfn"), ("webli", "webli"), ("merged", "merged"), ("yfcc", "yfcc-100m"),
    ];

    public string? ExtraTrainingData => ExtraData.FirstOrDefault(e => Name.Contains(e.Marker, StringComparison.Ordinal)).Data;
}

/// <summary>
/// Synthetic top-1 predictions for the timm zoo on the real ILSVRC-2012 validation labels and ReaL sets, and on an
/// ImageNetV2-shaped set (10 images per class), calibrated so that every model's top-1, ReaL accuracy and ImageNetV2
/// top-1 are exactly the published ones (to the resolution of the image counts: 0.002, 0.002 and 0.01 points).
/// Each image has a difficulty; a model is right on the images easiest for it (difficulty plus model noise), so models
/// make the same mistakes as often as real ones do; wrong answers are mostly the image's usual confusion.
/// An image is one of: A, the original label is in its ReaL set; B, it is not (a label error); C, the set is empty.
/// Predicting the original label counts for top-1 everywhere and for ReaL on A; predicting another label of the set
/// counts for ReaL only. With x_A + x_B + x_C = top-1 count and x_A + y = ReaL count, the counts are solved exactly.
/// </summary>
public sealed class ZooCalibration
{
    public const int ImagesPerClassV2 = 10;
    private readonly short[] _original;
    private readonly short[][] _real;
    private readonly int _classes;
    private readonly float[] _difficulty;
    /// <summary>Five wrong labels per image (never the original, never in its ReaL set): the first is its usual confusion.</summary>
    private readonly short[][] _confusions;
    private readonly int[] _a, _b, _c;
    private readonly float[] _difficultyV2;
    private readonly short[][] _confusionsV2;

    public ZooCalibration(short[] original, short[][] real, int classes, int seed = 2020)
    {
        _original = original;
        _real = real;
        _classes = classes;
        var random = new Random(seed);
        _difficulty = original.Select(_ => (float)random.NextDouble()).ToArray();
        _confusions = original.Select((o, i) => Confusions(random, o, real[i])).ToArray();
        var n = original.Length;
        _a = Enumerable.Range(0, n).Where(i => real[i].Length > 0 && real[i].Contains(original[i])).ToArray();
        _b = Enumerable.Range(0, n).Where(i => real[i].Length > 0 && !real[i].Contains(original[i])).ToArray();
        _c = Enumerable.Range(0, n).Where(i => real[i].Length == 0).ToArray();
        _difficultyV2 = Enumerable.Range(0, classes * ImagesPerClassV2).Select(_ => (float)random.NextDouble()).ToArray();
        _confusionsV2 = Enumerable.Range(0, classes * ImagesPerClassV2).Select(i => Confusions(random, (short)V2Original(i), [])).ToArray();
    }

    public int Images => _original.Length;
    public int RealImages => _a.Length + _b.Length;

    /// <summary>The original class of the i-th ImageNetV2-shaped image: ten per class, in class order.</summary>
    public static int V2Original(int image) => image / ImagesPerClassV2;

    private short[] Confusions(Random random, short original, short[] real)
    {
        var wrong = new List<short>(5);
        while (wrong.Count < 5)
        {
            var c = (short)random.Next(_classes);
            if (c != original && !real.Contains(c) && !wrong.Contains(c)) wrong.Add(c);
        }
        return wrong.ToArray();
    }

    /// <summary>A wrong answer: the image's usual confusion more often than not (so mistakes are shared), else one of four others.</summary>
    private static short Wrong(Random random, short[] confusions) => random.NextDouble() < 0.6 ? confusions[0] : confusions[1 + random.Next(4)];

    /// <summary>The images of a group ordered easiest first for this model: its difficulty plus the model's own noise.</summary>
    private static int[] Easiest(int[] group, float[] difficulty, Random random)
    {
        var keys = group.Select(i => difficulty[i] + 0.25f * (float)random.NextDouble()).ToArray();
        var order = (int[])group.Clone();
        Array.Sort(keys, order);
        return order;
    }

    /// <summary>Top-1 class per ImageNet validation image, with exactly the model's published top-1 and ReaL counts.</summary>
    public short[] ImageNet(ZooModel model, int seed)
    {
        var random = new Random(seed);
        int n = Images, top1 = (int)Math.Round(model.Top1 / 100 * n), real = (int)Math.Round(model.Real / 100 * RealImages);
        var orderA = Easiest(_a, _difficulty, random);
        var orderB = Easiest(_b, _difficulty, random);
        var orderC = Easiest(_c, _difficulty, random);

        // Original-label answers in proportion to the groups, then moved between them until the ReaL count is reachable:
        // an answer on A is worth one ReaL point; ReaL points beyond come from B's remaining images and A's second objects.
        var xA = Math.Clamp((int)Math.Round((double)top1 * _a.Length / n), 0, _a.Length);
        var xB = Math.Min(_b.Length, top1 - xA);
        var xC = Math.Min(_c.Length, top1 - xA - xB);
        xA = top1 - xB - xC;
        // Second objects among A's images from position x on, for every x.
        var multiFrom = new int[orderA.Length + 1];
        for (var x = orderA.Length - 1; x >= 0; x--) multiFrom[x] = multiFrom[x + 1] + (_real[orderA[x]].Length >= 2 ? 1 : 0);
        int Available() => _b.Length - xB + multiFrom[xA];
        while (real - xA > Available() && xA < _a.Length && xB + xC > 0)
        {
            xA++;
            if (xC > 0) xC--; else xB--;
        }
        while (real < xA && xA > 0 && xB + xC < _b.Length + _c.Length)
        {
            xA--;
            if (xC < _c.Length) xC++; else xB++;
        }
        var need = Math.Clamp(real - xA, 0, Available());

        var predictions = new short[n];
        for (var i = 0; i < n; i++) predictions[i] = Wrong(random, _confusions[i]);
        foreach (var i in orderA.Take(xA)) predictions[i] = _original[i];
        foreach (var i in orderB.Take(xB)) predictions[i] = _original[i];
        foreach (var i in orderC.Take(xC)) predictions[i] = _original[i];
        // The ReaL answers that are not the original label: label errors first, then second objects.
        foreach (var i in orderB.Skip(xB).Concat(orderA.Skip(xA).Where(i => _real[i].Length >= 2)).Take(need))
        {
            var others = _real[i].Where(c => c != _original[i]).ToArray();
            predictions[i] = others[random.Next(others.Length)];
        }
        return predictions;
    }

    /// <summary>Top-1 class per ImageNetV2-shaped image, with exactly the model's published top-1 count.</summary>
    public short[] ImageNetV2(ZooModel model, int seed)
    {
        var random = new Random(seed);
        var n = _classes * ImagesPerClassV2;
        var right = (int)Math.Round(model.V2Top1 / 100 * n);
        var predictions = new short[n];
        for (var i = 0; i < n; i++) predictions[i] = Wrong(random, _confusionsV2[i]);
        foreach (var i in Easiest(Enumerable.Range(0, n).ToArray(), _difficultyV2, random).Take(right)) predictions[i] = (short)V2Original(i);
        return predictions;
    }

    /// <summary>timm's results files (ImageNet, ReaL, ImageNetV2 matched-frequency), joined by model and image size.</summary>
    public static IReadOnlyList<ZooModel> ReadModels(string folder)
    {
        static Dictionary<(string, int), (double Top1, double? Params)> Read(string path)
        {
            var rows = new Dictionary<(string, int), (double, double?)>();
            using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
            foreach (var row in reader)
            {
                var key = (row["model"].ToString(), int.Parse(row["img_size"].Span, CultureInfo.InvariantCulture));
                var parameters = double.TryParse(row["param_count"].ToString().Replace(",", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : (double?)null;
                rows.TryAdd(key, (double.Parse(row["top1"].Span, CultureInfo.InvariantCulture), parameters));
            }
            return rows;
        }
        var imagenet = Read(Path.Combine(folder, "timm-results-imagenet.csv"));
        var real = Read(Path.Combine(folder, "timm-results-imagenet-real.csv"));
        var v2 = Read(Path.Combine(folder, "timm-results-imagenetv2-matched-frequency.csv"));
        return imagenet.Where(m => real.ContainsKey(m.Key) && v2.ContainsKey(m.Key))
            .Select(m => new ZooModel(m.Key.Item1, m.Key.Item2, m.Value.Top1, real[m.Key].Top1, v2[m.Key].Top1, m.Value.Params))
            .OrderByDescending(m => m.Top1).ThenBy(m => m.Slug, StringComparer.Ordinal)
            .ToList();
    }
}
