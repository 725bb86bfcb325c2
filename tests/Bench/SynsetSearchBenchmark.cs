using System.Diagnostics;

namespace Relabel.Bench;

/// <summary>
/// The class pickers' search: lemma prefixes and substrings over all 82,115 WordNet nouns, and within the
/// 1,000 ILSVRC-2012 classes, one request at a time over loopback.
/// </summary>
public sealed class SynsetSearchBenchmark : IBenchmark
{
    public string Name => "synset-search";

    private static readonly string[] Queries =
        ["dog", "d", "ch", "huahua", "terrier", "car", "tabby", "grand piano", "sea", "mushroom", "xylophone", "ter", "red", "pe"];

    public async Task RunAsync(BenchContext context)
    {
        await context.RegisterIlsvrcValidationAsync("ilsvrc2012-val");
        foreach (var (name, suffix) in new[] { ("all_nouns", ""), ("ilsvrc_classes", "&dataset=ilsvrc2012-val") })
        {
            var times = new List<double>();
            for (var round = 0; round < 30; round++)
                foreach (var q in Queries)
                {
                    var watch = Stopwatch.StartNew();
                    (await context.Admin.GetAsync($"/api/synsets?q={Uri.EscapeDataString(q)}&limit=20{suffix}", context.CancellationToken)).EnsureSuccessStatusCode();
                    if (round > 0) times.Add(watch.Elapsed.TotalMilliseconds);
                }
            times.Sort();
            BenchContext.Report($"synset_search_{name}_p50_ms", times[times.Count / 2], "F2");
            BenchContext.Report($"synset_search_{name}_p99_ms", times[(int)(times.Count * 0.99)], "F2");
        }
    }
}
