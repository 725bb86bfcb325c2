namespace Relabel.Api.Features.Labeling;

/// <summary>A candidate image for a task: its id and the class it is filed under (its original label).</summary>
public readonly record struct SampleCandidate(long ImageId, string Wnid);

/// <summary>
/// Class-balanced random samples: classes are visited in a seeded random order, round after round, each round taking
/// the next image (in a seeded random order) of every class that has one left, until the sample has its size. So the
/// counts of any two classes differ by at most one unless a class runs out. Same candidates and seed, same sample.
/// </summary>
public static class TaskSampler
{
    public static List<long> ClassBalanced(IEnumerable<SampleCandidate> candidates, int size, int seed)
    {
        var random = new Random(seed);
        var classes = candidates
            .GroupBy(c => c.Wnid, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Shuffle(g.Select(c => c.ImageId).Order().ToList(), random))
            .ToList();
        classes = Shuffle(classes, random);
        var sample = new List<long>(size);
        for (var round = 0; sample.Count < size; round++)
        {
            var took = false;
            foreach (var images in classes)
            {
                if (round >= images.Count) continue;
                sample.Add(images[round]);
                took = true;
                if (sample.Count == size) break;
            }
            if (!took) break;
        }
        // The order labelers see: shuffled too, so that a class's images do not come in a run.
        return Shuffle(sample, random);
    }

    private static List<T> Shuffle<T>(List<T> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
        return items;
    }
}
