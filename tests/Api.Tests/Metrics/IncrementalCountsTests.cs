using Relabel.Api.Metrics;
using Xunit;

namespace Relabel.Api.Tests.Metrics;

/// <summary>
/// Counts carried from label state to label state by re-grading only the changed images equal a count over every image,
/// after every step of a long random sequence (verdicts, reversals, items dropped back to pending, problematic flags, and
/// now and then a change of most states, as a consensus-rule change makes).
/// </summary>
public sealed class IncrementalCountsTests
{
    private const int Images = 400, Classes = 12, Entries = 6;

    private static void AssertEqual(ClassCounts expected, ClassCounts actual, string where)
    {
        foreach (var (name, e, a) in new[]
                 {
                     ("images", expected.Images, actual.Images), ("predicted", expected.Predicted, actual.Predicted),
                     ("top1", expected.Top1, actual.Top1), ("top5", expected.Top5, actual.Top5),
                     ("correct", expected.Correct.ToArray(), actual.Correct.ToArray()), ("unclear", expected.Unclear.ToArray(), actual.Unclear.ToArray()),
                     ("wrong", expected.Wrong.ToArray(), actual.Wrong.ToArray()), ("pending", expected.Pending.ToArray(), actual.Pending.ToArray()),
                     ("realScope", expected.RealScope, actual.RealScope), ("realImages", expected.RealImages, actual.RealImages),
                     ("realTop1", expected.RealTop1, actual.RealTop1), ("realTop5", expected.RealTop5, actual.RealTop5),
                 })
            Assert.True(e.SequenceEqual(a), $"{where}: {name} differs ({string.Join(',', e)} against {string.Join(',', a)})");
    }

    [Theory]
    [InlineData(1, false, Classes)]
    [InlineData(2, true, Classes)]
    [InlineData(3, true, Classes)]
    // Three chunks of classes (the last one short): the per-class sums are kept by chunk.
    [InlineData(4, false, 150)]
    public void Recounting_the_changed_images_equals_counting_every_image_after_each_of_300_random_steps(int seed, bool scoped, int classes)
    {
        var random = new Random(seed);
        var original = Enumerable.Range(0, Images).Select(_ => (short)random.Next(classes)).ToArray();
        // Reference sets of zero to three classes.
        var referenceStart = new int[Images + 1];
        var referenceClass = new List<short>();
        for (var i = 0; i < Images; i++)
        {
            referenceClass.AddRange(Enumerable.Range(0, random.Next(4)).Select(_ => (short)random.Next(classes)).Distinct());
            referenceStart[i + 1] = referenceClass.Count;
        }
        var images = new DatasetImages(classes, original, referenceStart, referenceClass.ToArray());
        var predictions = Enumerable.Range(0, Entries).Select(e =>
        {
            // Top-5 entries, a top-3 and a top-1 one.
            var k = e switch { 1 => 1, 2 => 3, _ => 5 };
            var predictions = RankedPredictions.Empty(Images, k);
            for (var i = 0; i < Images; i++)
            {
                var labels = Enumerable.Range(0, classes).OrderBy(_ => random.Next()).Take(k).Select(c => (short)c).ToArray();
                if (random.NextDouble() < 0.5) labels[0] = original[i];
                if (e == 0 && random.NextDouble() < 0.1) continue; // a partial entry
                predictions.Set(i, labels);
            }
            return predictions;
        }).ToArray();
        var scope = scoped ? Enumerable.Range(0, Images).Select(_ => random.NextDouble() < 0.7).ToArray() : null;

        // The decided items, as a map the steps change; a state built from it in a shuffled order each time.
        var items = new Dictionary<(int Image, short Class), ItemState>();
        var problematic = new bool[Images];
        LabelState Build()
        {
            var list = items.Select(p => (p.Key.Image, p.Key.Class, p.Value)).OrderBy(_ => random.Next()).ToArray();
            return LabelState.Build(Images, (bool[])problematic.Clone(), list);
        }

        var labels = Build();
        var counts = predictions.Select(p => Scoring.Count(images, labels, p, scope)).ToArray();
        // Two subsets whose sums a board reads: a recount derives them from the previous counts' sums.
        bool[][] subsets = [Enumerable.Repeat(true, classes).ToArray(), Enumerable.Range(0, classes).Select(c => c % 3 != 0).ToArray()];
        var reused = 0;
        for (var step = 0; step < 300; step++)
        {
            // A step: a few verdicts (often on a top-1 of some entry), reversals, drops back to pending, flag changes.
            for (var n = random.Next(1, 6); n > 0; n--)
            {
                var i = random.Next(Images);
                var cls = random.NextDouble() < 0.6 ? predictions[random.Next(Entries)].Top1(i) : (short)random.Next(classes);
                if (cls < 0) cls = original[i];
                switch (random.Next(6))
                {
                    case 0: items.Remove((i, cls)); break;
                    case 1: problematic[i] = !problematic[i]; break;
                    default: items[(i, cls)] = (ItemState)random.Next(1, 4); break;
                }
            }
            // Every 50th step moves more than a quarter of the images, as a consensus-rule change does: a recount then
            // counts afresh, the states alone when no flag moved; every other such step also moves a flag.
            var many = step % 50 == 49;
            if (many)
            {
                foreach (var key in items.Keys.ToList()) if (random.Next(2) == 0) items[key] = (ItemState)random.Next(1, 4);
                for (var i = 0; i < Images; i++) if (random.Next(2) == 0) items[(i, original[i])] = (ItemState)random.Next(1, 4);
                if (step % 100 == 99) problematic[random.Next(Images)] ^= true;
            }
            var next = Build();
            var changed = LabelState.ChangedImages(labels, next);
            if (many) Assert.True(changed.Length > Images / 4, $"step {step} changed only {changed.Length} images");
            for (var e = 0; e < Entries; e++)
            {
                foreach (var subset in subsets) counts[e].Totals(subset).Means(false);
                var carried = Scoring.Recount(counts[e], images, labels, next, predictions[e], changed, scope);
                if (ReferenceEquals(carried, counts[e])) reused++;
                var expected = Scoring.Count(images, next, predictions[e], scope);
                AssertEqual(expected, carried, $"seed {seed}, step {step}, entry {e}");
                // The counts recounted from share chunks with the new ones and stay as they were (a board may still show them).
                AssertEqual(Scoring.Count(images, labels, predictions[e], scope), counts[e], $"seed {seed}, step {step}, entry {e} before");
                foreach (var subset in subsets)
                {
                    var (fresh, kept) = (new SubsetTotals(expected, subset), carried.Totals(subset));
                    Assert.Equal(
                        (fresh.Images, fresh.Predicted, fresh.Top1, fresh.Top5, fresh.Correct, fresh.Unclear, fresh.Wrong, fresh.Pending,
                         fresh.RealScope, fresh.RealImages, fresh.RealTop1, fresh.RealTop5, fresh.Means(false), fresh.Means(true)),
                        (kept.Images, kept.Predicted, kept.Top1, kept.Top5, kept.Correct, kept.Unclear, kept.Wrong, kept.Pending,
                         kept.RealScope, kept.RealImages, kept.RealTop1, kept.RealTop5, kept.Means(false), kept.Means(true)));
                }
                counts[e] = carried;
            }
            labels = next;
        }
        // Some steps touched no entry's top-1: those entries kept their counts object (nothing copied).
        Assert.True(reused > 0);
    }

    [Fact]
    public void Only_images_whose_flag_or_decided_items_differ_are_changed_whatever_the_order_of_the_items()
    {
        var before = LabelState.Build(4, [false, false, true, false],
            [(0, 1, ItemState.Correct), (0, 2, ItemState.Wrong), (1, 1, ItemState.Unclear), (3, 0, ItemState.Correct)]);
        var after = LabelState.Build(4, [false, false, false, false],
            [(0, 2, ItemState.Wrong), (0, 1, ItemState.Correct), (1, 1, ItemState.Wrong), (3, 0, ItemState.Correct), (3, 2, ItemState.Wrong)]);
        // Image 0: the same items in another order. 1: a state changed. 2: no longer problematic. 3: an item added.
        Assert.Equal([1, 2, 3], LabelState.ChangedImages(before, after));
        Assert.Empty(LabelState.ChangedImages(after, after));
    }
    [Fact]
    public void A_state_advanced_by_With_equals_one_built_from_its_items_and_names_the_images_it_was_given()
    {
        var random = new Random(7);
        var items = new Dictionary<(int Image, short Class), ItemState>();
        var problematic = new bool[Images];
        for (var n = 0; n < 900; n++) items[(random.Next(Images), (short)random.Next(Classes))] = (ItemState)random.Next(1, 4);
        LabelState Build() => LabelState.Build(Images, (bool[])problematic.Clone(), items.Select(p => (p.Key.Image, p.Key.Class, p.Value)).ToArray());
        var state = Build();
        for (var step = 0; step < 200; step++)
        {
            // A few items set, removed (pending) or added, sometimes on the first or last image, and a flag now and then;
            // every other step only sets the states of items the images list (a verdict's usual change: then the new
            // state shares the items' places and classes with the one before).
            var changes = new List<(int, short, ItemState)>();
            var flags = new List<(int, bool)>();
            var before = items.ToDictionary();
            var statesOnly = step % 2 == 0;
            for (var n = random.Next(1, 4); statesOnly && n > 0; n--)
            {
                var (i, cls) = items.Keys.ElementAt(random.Next(items.Count));
                var to = (ItemState)random.Next(1, 4);
                changes.Add((i, cls, to));
                items[(i, cls)] = to;
            }
            for (var n = random.Next(0, 4); !statesOnly && n > 0; n--)
            {
                var i = random.Next(8) switch { 0 => 0, 1 => Images - 1, _ => random.Next(Images) };
                var cls = (short)random.Next(Classes);
                var to = (ItemState)random.Next(0, 4);
                changes.Add((i, cls, to));
                if (to == ItemState.Pending) items.Remove((i, cls)); else items[(i, cls)] = to;
            }
            if (random.Next(3) == 0)
            {
                var i = random.Next(Images);
                problematic[i] = !problematic[i];
                flags.Add((i, problematic[i]));
            }
            var next = state.With(changes, flags);
            var built = Build();
            Assert.Equal(built.Problematic, next.Problematic);
            for (var i = 0; i < Images; i++)
                for (short c = 0; c < Classes; c++)
                    Assert.True(built.StateOf(i, c) == next.StateOf(i, c), $"step {step}: image {i}, class {c}");
            Assert.Equal(built.ItemClass.Length, next.ItemClass.Length);
            if (statesOnly)
            {
                Assert.Same(state.ItemStart, next.ItemStart);
                Assert.Same(state.ItemClass, next.ItemClass);
                Assert.NotSame(state.ItemStates, next.ItemStates);
            }
            // The state it was made from stays as it was.
            for (var i = 0; i < Images; i++)
                for (short c = 0; c < Classes; c++)
                    Assert.True(before.GetValueOrDefault((i, c), ItemState.Pending) == state.StateOf(i, c), $"step {step}: image {i}, class {c} before");
            // The images given cover every image that changed, and only a state made from this one names them.
            var given = next.ChangedSince(state)!;
            Assert.Subset(given.ToHashSet(), LabelState.ChangedImages(state, next).ToHashSet());
            Assert.Equal(changes.Select(c => c.Item1).Concat(flags.Select(f => f.Item1)).Distinct().Order(), given);
            Assert.Null(next.ChangedSince(built));
            state = next;
        }
    }

    /// <summary>
    /// A recount keeps the sums of the subsets a verdict left alone, and those sums must not keep the counts they were
    /// summed from alive: they did, and through them every earlier recount's counts, with the board rows and JSON kept
    /// for them (a zoo lost about 1.7 MB per verdict until a restart).
    /// </summary>
    [Fact]
    public void Counts_recounted_from_are_not_kept_alive_by_the_sums_the_next_counts_keep()
    {
        // Two classes, each its own subset, of 20 images each; the entry predicts the original class.
        var original = Enumerable.Range(0, 40).Select(i => (short)(i / 20)).ToArray();
        var images = new DatasetImages(2, original);
        var predictions = RankedPredictions.Empty(images.Count, 1);
        for (var i = 0; i < original.Length; i++) predictions.Set(i, [original[i]]);
        bool[][] subsets = [[true, false], [false, true]];
        var (first, last) = RecountChain(images, predictions, subsets);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // The last counts still answer for both subsets (that of class 1 summed before the first verdict)...
        Assert.Equal(20, last.Totals(subsets[1]).Predicted);
        Assert.Equal(20, last.Totals(subsets[0]).Correct);
        // ...and the first counts are gone.
        Assert.False(first.IsAlive, "the counts before the first verdict are still reachable from the last counts");
        GC.KeepAlive(last);
    }

    /// <summary>One verdict per step, each on another image of class 0 (a recount, not a count afresh); the first counts
    /// by a weak reference, and the last ones.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (WeakReference First, ClassCounts Last) RecountChain(DatasetImages images, RankedPredictions predictions, bool[][] subsets)
    {
        var items = new List<(int, short, ItemState)>();
        var labels = LabelState.Build(images.Count, new bool[images.Count], items.ToArray());
        var counts = Scoring.Count(images, labels, predictions);
        var first = new WeakReference(counts);
        for (var image = 0; image < 20; image++)
        {
            foreach (var subset in subsets) counts.Totals(subset).Means(false);
            items.Add((image, 0, ItemState.Correct));
            var next = LabelState.Build(images.Count, new bool[images.Count], items.ToArray());
            var changed = LabelState.ChangedImages(labels, next);
            Assert.Equal([image], changed);
            var recounted = Scoring.Recount(counts, images, labels, next, predictions, changed);
            Assert.NotSame(counts, recounted);
            (counts, labels) = (recounted, next);
        }
        return (first, counts);
    }
}
