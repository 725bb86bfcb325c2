using System.Text.RegularExpressions;
using Relabel.Api.Tests.Infrastructure;
using Xunit;

namespace Relabel.Api.Tests.Architecture;

/// <summary>
/// The dependency rules between the API's folders, read from their using directives and qualified names: the label
/// state (Features/Labels) is used and points back at no feature that uses it, and Infrastructure depends on no feature.
/// </summary>
public sealed partial class DependencyTests
{
    [GeneratedRegex(@"Relabel\.Api\.Features\.(\w+)")]
    private static partial Regex FeatureReference();

    /// <summary>The features that the .cs files of a folder of api/ name, other than itself.</summary>
    private static SortedSet<string> FeaturesUsedBy(string folder)
    {
        var root = TestDatabase.RepositoryPath(Path.Combine("api", folder));
        var own = Path.GetFileName(folder);
        var used = new SortedSet<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            foreach (Match match in FeatureReference().Matches(File.ReadAllText(file)))
                if (match.Groups[1].Value != own) used.Add(match.Groups[1].Value);
        return used;
    }

    [Fact]
    public void Infrastructure_depends_on_no_feature() =>
        Assert.Empty(FeaturesUsedBy("Infrastructure"));

    [Fact]
    public void The_label_state_points_back_at_no_feature() =>
        Assert.Empty(FeaturesUsedBy(Path.Combine("Features", "Labels")));

    [Fact]
    public void Review_and_the_leaderboard_do_not_depend_on_each_other()
    {
        Assert.DoesNotContain("Leaderboard", FeaturesUsedBy(Path.Combine("Features", "Review")));
        Assert.DoesNotContain("Review", FeaturesUsedBy(Path.Combine("Features", "Leaderboard")));
    }
}
