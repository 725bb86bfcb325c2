using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCaseOrderer("Relabel.Api.Tests.Infrastructure.TestOrder", "Relabel.Api.Tests")]
[assembly: TestCollectionOrderer("Relabel.Api.Tests.Infrastructure.TestOrder", "Relabel.Api.Tests")]

namespace Relabel.Api.Tests.Infrastructure;

/// <summary>
/// The order of test classes and of the tests in each class, from RELABEL_TEST_ORDER: "default" (xunit's own: by
/// unique id), "reverse" (the opposite), or "random:SEED" (shuffled, the same for the same seed). tests/run-all.sh
/// chooses a random seed and prints it, so that no test can lean on another having run before it, and a failure in
/// one order can be replayed.
/// </summary>
public sealed class TestOrder : ITestCaseOrderer, ITestCollectionOrderer
{
    public const string Variable = "RELABEL_TEST_ORDER";

    private enum Mode { Default, Reverse, Random }

    private static readonly (Mode Mode, int Seed) Setting = Parse(Environment.GetEnvironmentVariable(Variable));

    private static (Mode, int) Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value == "default") return (Mode.Default, 0);
        if (value == "reverse") return (Mode.Reverse, 0);
        if (value.StartsWith("random:", StringComparison.Ordinal) && int.TryParse(value["random:".Length..], out var seed)) return (Mode.Random, seed);
        throw new InvalidOperationException($"{Variable}='{value}': use default, reverse or random:SEED.");
    }

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase
    {
        var sorted = testCases.OrderBy(t => t.UniqueID, StringComparer.Ordinal).ToList();
        // Each class gets its own shuffle of the run's seed, so adding a test to one class leaves the others' order.
        var salt = sorted.Count == 0 ? 0 : StableHash(sorted[0].TestMethod.TestClass.Class.Name);
        return Arrange(sorted, salt);
    }

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        Arrange(testCollections.OrderBy(c => c.UniqueID).ToList(), 0);

    private static List<T> Arrange<T>(List<T> sorted, int salt)
    {
        switch (Setting.Mode)
        {
            case Mode.Reverse:
                sorted.Reverse();
                break;
            case Mode.Random:
                var random = new Random(Setting.Seed ^ salt);
                for (var i = sorted.Count - 1; i > 0; i--)
                {
                    var j = random.Next(i + 1);
                    (sorted[i], sorted[j]) = (sorted[j], sorted[i]);
                }
                break;
        }
        return sorted;
    }

    /// <summary>FNV-1a: string.GetHashCode differs from one process to the next.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261;
        foreach (var c in text) hash = (hash ^ c) * 16777619;
        return unchecked((int)hash);
    }
}
