using System.IO.Compression;
using System.Text.Json;
using Relabel.Api.Features.Aggregation;
using Relabel.Api.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Relabel.Api.Tests.Aggregation;

public sealed class DawidSkeneTests(ITestOutputHelper output)
{
    private const int No = 0, Maybe = 1, Yes = 2;

    [Fact]
    public void Two_raters_with_known_confusion_converge_to_the_known_answer()
    {
        // 30 of 100 labels are correct. Rater 0 answers truthfully. Rater 1 says yes to 24 of the correct ones
        // and maybe to 6; no to 63 of the wrong ones and maybe to 7. The maximum-likelihood answer is rater 0's
        // verdicts, with rater 1's confusion [wrong: no .9, maybe .1] [correct: yes .8, maybe .2].
        var votes = new List<Vote>();
        for (var q = 0; q < 100; q++)
        {
            var correct = q < 30;
            votes.Add(new Vote(q, 0, correct ? Yes : No));
            votes.Add(new Vote(q, 1, correct ? (q < 24 ? Yes : Maybe) : (q < 93 ? No : Maybe)));
        }
        var result = DawidSkene.Run(votes, questions: 100, raters: 2, answers: 3, smoothing: 1e-6);
        Assert.True(result.Converged, $"{result.Iterations} iterations");
        Assert.Equal(0.30, result.Prior, 3);
        for (var q = 0; q < 100; q++) Assert.Equal(q < 30 ? 1.0 : 0.0, result.Posterior[q], 3);
        Assert.Equal(1.0, result.Confusion[0][1][Yes], 3);
        Assert.Equal(1.0, result.Confusion[0][0][No], 3);
        Assert.Equal([0.9, 0.1, 0.0], result.Confusion[1][0].Select(p => Math.Round(p, 3)));
        Assert.Equal([0.0, 0.2, 0.8], result.Confusion[1][1].Select(p => Math.Round(p, 3)));
    }

    [Fact]
    public void Confusion_matrices_are_recovered_from_votes_made_with_them()
    {
        // Three raters with known P(answer | truth); votes are laid out in exact proportions.
        double[][][] truth =
        [
            [[0.80, 0.15, 0.05], [0.10, 0.10, 0.80]],
            [[0.60, 0.20, 0.20], [0.05, 0.25, 0.70]],
            [[0.90, 0.05, 0.05], [0.30, 0.20, 0.50]],
        ];
        const int perClass = 2000;
        var votes = new List<Vote>();
        var correct = new bool[2 * perClass];
        for (var k = 0; k < 2; k++)
            for (var i = 0; i < perClass; i++)
            {
                var q = k * perClass + i;
                correct[q] = k == 1;
                for (var r = 0; r < 3; r++)
                {
                    // Rater r's answers follow its confusion row, shuffled across questions by a per-rater stride.
                    var position = (i * (2 * r + 7) % perClass + 0.5) / perClass;
                    var answer = position < truth[r][k][0] ? 0 : position < truth[r][k][0] + truth[r][k][1] ? 1 : 2;
                    votes.Add(new Vote(q, r, answer));
                }
            }
        var result = DawidSkene.Run(votes, 2 * perClass, 3, 3);
        for (var r = 0; r < 3; r++)
            for (var k = 0; k < 2; k++)
                for (var a = 0; a < 3; a++)
                    Assert.True(Math.Abs(truth[r][k][a] - result.Confusion[r][k][a]) < 0.03,
                        $"rater {r}, class {k}, answer {a}: {result.Confusion[r][k][a]:F3} vs {truth[r][k][a]}");
        Assert.Equal(0.5, result.Prior, 1);
        var accuracy = Enumerable.Range(0, 2 * perClass).Count(q => result.Posterior[q] >= 0.5 == correct[q]) / (2.0 * perClass);
        Assert.True(accuracy > 0.9, $"accuracy {accuracy}");
    }

    [Fact]
    public void Classification_uses_the_threshold_both_ways()
    {
        Assert.Equal("correct", DawidSkene.Classify(0.9, 0.8));
        Assert.Equal("unclear", DawidSkene.Classify(0.5, 0.8));
        Assert.Equal("wrong", DawidSkene.Classify(0.1, 0.8));
    }

    [Fact]
    public void The_real_crowd_votes_aggregate_to_label_sets_close_to_ReaL()
    {
        var data = TestData.SharedData;
        var classes = TestData.IlsvrcClasses();
        var questions = new Dictionary<(string File, string Wnid), int>();
        var raters = new Dictionary<string, int>();
        var votes = new List<Vote>(930_000);
        using (var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(data, "real", "rater_votes.csv.gz")), CompressionMode.Decompress)))
        {
            reader.ReadLine();
            while (reader.ReadLine() is { } line)
            {
                var f = line.Split(',');
                var question = questions.TryGetValue((f[0], f[1]), out var q) ? q : questions[(f[0], f[1])] = questions.Count;
                var rater = raters.TryGetValue(f[2], out var r) ? r : raters[f[2]] = raters.Count;
                votes.Add(new Vote(question, rater, f[3] switch { "no" => No, "maybe" => Maybe, "yes" => Yes, _ => throw new FormatException(line) }));
            }
        }
        Assert.Equal(924_810, votes.Count);
        Assert.Equal(184_962, questions.Count);
        Assert.Equal(85, raters.Count);

        // How long this takes is make bench's figure dawid_skene_seconds; here only what it finds.
        var result = DawidSkene.Run(votes, questions.Count, raters.Count, 3);

        var real = JsonSerializer.Deserialize<int[][]>(File.ReadAllText(Path.Combine(data, "real", "real.json")))!;
        var reference = new Dictionary<string, HashSet<string>>();
        for (var i = 0; i < real.Length; i++)
            reference[$"ILSVRC2012_val_{i + 1:D8}.JPEG"] = real[i].Select(c => classes[c]).ToHashSet();
        (double Share, double Precision, double Recall, int Images) Compare(double threshold)
        {
            var ours = new Dictionary<string, HashSet<string>>();
            foreach (var ((file, wnid), q) in questions)
            {
                if (!ours.TryGetValue(file, out var set)) ours[file] = set = [];
                if (result.Posterior[q] >= threshold) set.Add(wnid);
            }
            int identical = 0, truePositive = 0, falsePositive = 0, falseNegative = 0;
            foreach (var (file, set) in ours)
            {
                var expected = reference[file];
                if (set.SetEquals(expected)) identical++;
                truePositive += set.Count(expected.Contains);
                falsePositive += set.Count(w => !expected.Contains(w));
                falseNegative += expected.Count(w => !set.Contains(w));
            }
            return ((double)identical / ours.Count, (double)truePositive / (truePositive + falsePositive),
                (double)truePositive / (truePositive + falseNegative), ours.Count);
        }
        output.WriteLine($"Dawid-Skene on {votes.Count} votes: {result.Iterations} iterations, converged {result.Converged}");
        foreach (var t in new[] { 0.5, 0.7, 0.9, 0.95, 0.99, 0.999 })
        {
            var c = Compare(t);
            output.WriteLine($"threshold {t}: images {c.Images}, identical sets {c.Share:P2}, precision {c.Precision:P2}, recall {c.Recall:P2}");
        }
        // 0.9 is the default threshold of Relabel's Dawid-Skene aggregation: the best agreement with ReaL above.
        var (share, precision, recall, _) = Compare(0.9);

        Assert.True(result.Converged, $"not converged after {result.Iterations} iterations");
        Assert.True(share > 0.85, $"identical label sets: {share:P2}");
        Assert.True(precision > 0.95, $"precision {precision:P2}");
        Assert.True(recall > 0.90, $"recall {recall:P2}");
    }
}
