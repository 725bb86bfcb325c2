using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Relabel.Api.Features.Leaderboard;
using Relabel.Api.Metrics;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Leaderboard;

/// <summary>
/// The board's JSON as the API writes it (rows by generated code, each row written once and spliced into the frame, the
/// parts a row shares with the entry's row before copied from it) is the same bytes as the serializer writes the whole
/// board with the API's options.
/// </summary>
public sealed class BoardJsonTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private static Score Score(Random random) => random.Next(4) == 0
        ? new Score(null, null, null, 0, 0)
        : new Score(random.NextDouble(), random.NextDouble() / 2, 0.5 + random.NextDouble() / 2, random.Next(1000), 1000 + random.Next(1000));

    private static MultiLabelResult MultiLabel(Random random) =>
        new(random.NextDouble(), 0.1, 0.9, random.Next(100), 200, 150, 50, random.Next(2) == 0 ? null : 0.5, 0.4, 0.6, random.Next(2) == 0);

    private static LeaderboardRow Row(Random random, int i) => new()
    {
        Rank = i % 5 == 4 ? null : i + 1,
        Slug = $"model-{i}",
        // Names that need escaping, and characters outside ASCII.
        DisplayName = (i % 3) switch { 0 => $"Modèle \"{i}\" <b>&", 1 => $"ResNet-{i} \u00e9\u4e2d\ud83d\ude00", _ => $"plain {i}\\path\ttab" },
        Kind = i % 4 == 0 ? "human" : "model",
        Computed = i % 7 == 0,
        PaperUrl = i % 2 == 0 ? null : $"https://example.org/paper?i={i}&x=<y>",
        CodeUrl = null,
        ParameterCount = i % 3 == 0 ? null : 25_557_032L * i,
        TrainingData = "imagenet-1k",
        Tags = i % 2 == 0 ? [] : ["extra-data", "tag \"quoted\""],
        K = i % 2 == 0 ? 5 : 1,
        Predicted = 50_000 - i,
        Images = 50_000,
        Complete = i % 5 != 4,
        Value = i % 6 == 5 ? null : random.NextDouble(),
        Top1 = Score(random),
        Top5 = i % 2 == 0 ? Score(random) : null,
        MultiLabel = MultiLabel(random),
        Strict = MultiLabel(random),
        Lenient = MultiLabel(random),
        Real = Score(random),
        RealTop5 = null,
        Subsets = [new SubsetResult("all", random.NextDouble(), 0.1, 0.9, true), new SubsetResult("dogs", null, null, null, false)],
        Shift = i % 3 == 0 ? null : new ShiftResult(random.NextDouble(), 0.2, 0.8, i, 0.05, i % 2 == 0 ? null : -0.01, true),
        Provisional = i % 2 == 0,
        RankInterval = i % 4 == 0 ? null : new RankInterval(i, i + 3),
        VersusNext = i % 4 == 1 ? new NextComparison($"model-{i + 1}", "mcnemar", 0.03, true) : null,
    };

    [Fact]
    public void A_board_is_written_as_the_serializer_writes_it_with_the_API_options()
    {
        var options = fixture.App.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var random = new Random(7);
        var rows = Enumerable.Range(0, 40).Select(i => Row(random, i)).ToArray();
        var board = new LeaderboardResponse
        {
            Dataset = "d", DatasetName = "Dataset \"d\"", ShiftedDataset = null, Subset = "all", Subsets = ["all", "dogs"],
            Scope = new BoardScope { ImageSet = null, Default = false, Images = 10, Graded = 9, Problematic = 1, WrongOriginalIsProblematic = false,
                WrongOriginalImages = null, ShiftedImages = null, Description = "rows: [] in a description" },
            Metric = "multilabel", Average = "micro", Unclear = "wrong", Alpha = 0.05, Definition = "\"rows\":[] is not the rows",
            LabelVersion = 3, CurrentLabelVersion = 3, ShiftedLabelVersion = null, HasReferenceLabels = true, Images = 10, Fit = null,
            Sensitivity = new RankingSensitivity(["a"], [[1.0]], 2), Statistics = new BoardStatistics("computing", 1000, 1, "s"),
            Rows = rows, ComputeMs = 1.5,
        };
        var json = new BoardJson(options);
        var expected = JsonSerializer.SerializeToUtf8Bytes(board, options);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(json.Serialize(board)));

        // A second board sharing most row objects (their JSON is reused) and changing a few is written right too.
        var next = board with { Rows = rows.Select((r, i) => i % 9 == 0 ? r with { Value = 0.125, Rank = 99 } : r).Reverse().ToArray() };
        Assert.Equal(Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(next, options)), Encoding.UTF8.GetString(json.Serialize(next)));
        // Rows built again keep some parts (their JSON is copied from the entry's row before, array elements too) and
        // replace others; twice, so that a row copies from a row that was itself partly copied.
        var current = next;
        for (var round = 0; round < 2; round++)
        {
            current = current with
            {
                Rows = current.Rows.Select((r, i) => i % 2 == round ? r with
                {
                    Top1 = Score(random),
                    Subsets = [r.Subsets[0], new SubsetResult("dogs", random.NextDouble(), 0.25, 0.75, true)],
                    MultiLabel = r.Strict,
                    Lenient = MultiLabel(random),
                } : r with { Subsets = [new SubsetResult("all", 0.5, 0.25, 0.75, false), r.Subsets[1]] }).ToArray(),
            };
            Assert.Equal(Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(current, options)), Encoding.UTF8.GetString(json.Serialize(current)));
        }
        // A row that holds a new part twice (the board's definition's result is its strict one too; a subset listed twice)
        // writes it once and copies it, an array element without its comma.
        current = current with
        {
            Rows = current.Rows.Select((r, i) =>
            {
                var result = MultiLabel(random);
                var subset = new SubsetResult("dogs", random.NextDouble(), 0.125, 0.875, i % 2 == 0);
                return i % 3 == 0 ? r with { MultiLabel = result, Strict = result, Subsets = [r.Subsets[0], subset, subset] } : r;
            }).ToArray(),
        };
        Assert.Equal(Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(current, options)), Encoding.UTF8.GetString(json.Serialize(current)));
        // And a board without rows.
        var empty = board with { Rows = [] };
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(empty, options), json.Serialize(empty));
    }
}
