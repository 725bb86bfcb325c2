using Relabel.Api.Features.Review;
using Xunit;

namespace Relabel.Api.Tests.Review;

public sealed class AgreementTests
{
    /// <summary>Items from a table of category counts: rater r_k gets the categories in column order.</summary>
    private static List<IReadOnlyDictionary<string, string>> FromCounts(int[][] counts) =>
        counts.Select(row =>
        {
            var ratings = new Dictionary<string, string>();
            var rater = 0;
            for (var category = 0; category < row.Length; category++)
                for (var k = 0; k < row[category]; k++)
                    ratings[$"r{rater++}"] = $"c{category}";
            return (IReadOnlyDictionary<string, string>)ratings;
        }).ToList();

    [Fact]
    public void Fleiss_kappa_matches_the_worked_example_of_Fleiss_1971_as_given_on_Wikipedia()
    {
        // 10 subjects, 14 raters, 5 categories: P̄ = 0.378, P̄_e = 0.213, κ = 0.210.
        int[][] table =
        [
            [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
        ];
        Assert.Equal(0.2099, Agreement.FleissKappa(FromCounts(table))!.Value, 4);
    }

    [Fact]
    public void Cohens_kappa_of_a_two_by_two_table()
    {
        // yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = 0.7, p_e = 0.5·0.6 + 0.5·0.4 = 0.5, κ = 0.4.
        var ratings = Enumerable.Repeat(("yes", "yes"), 20).Concat(Enumerable.Repeat(("yes", "no"), 5))
            .Concat(Enumerable.Repeat(("no", "yes"), 10)).Concat(Enumerable.Repeat(("no", "no"), 15)).ToList();
        Assert.Equal(0.4, Agreement.CohensKappa(ratings)!.Value, 10);
    }

    [Fact]
    public void Kappa_is_undefined_when_everyone_always_chooses_the_same_category()
    {
        Assert.Null(Agreement.CohensKappa([("a", "a"), ("a", "a")]));
        var stats = Agreement.Compute([new Dictionary<string, string> { ["x"] = "a", ["y"] = "a" }, new Dictionary<string, string> { ["x"] = "a" }]);
        Assert.Equal(1, stats.Items);
        Assert.Null(stats.FleissKappa);
        Assert.Equal(1.0, stats.Pairs.Single().Agreement);
    }
}
