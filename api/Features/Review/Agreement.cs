namespace Relabel.Api.Features.Review;

/// <summary>Agreement of two reviewers on the items both judged.</summary>
public sealed record PairAgreement(string ReviewerA, string ReviewerB, int Items, double Agreement, double? CohensKappa);

/// <summary>Inter-reviewer agreement over the items with two or more judgements.</summary>
public sealed record AgreementStats(int Items, IReadOnlyList<PairAgreement> Pairs, double? FleissKappa);

/// <summary>
/// Chance-corrected agreement between reviewers. Pure: the input is, per item, each reviewer's standing category.
/// <list type="bullet">
/// <item>Pairwise agreement p_o: the share of items both reviewers judged on which they chose the same category.</item>
/// <item>Cohen's kappa (Cohen 1960): κ = (p_o − p_e) / (1 − p_e), with p_e = Σ_k p_A(k)·p_B(k) from each reviewer's
/// own category frequencies over the shared items; undefined (null) when p_e = 1.</item>
/// <item>Fleiss' kappa (Fleiss 1971), in its usual form for a varying number of raters per item: for item i with
/// n_i ≥ 2 ratings and n_ij in category j, P_i = (Σ_j n_ij² − n_i) / (n_i (n_i − 1)); P̄ is the mean of P_i;
/// p_j = Σ_i n_ij / Σ_i n_i; P̄_e = Σ_j p_j²; κ = (P̄ − P̄_e) / (1 − P̄_e), undefined (null) when P̄_e = 1.</item>
/// </list>
/// </summary>
public static class Agreement
{
    public static AgreementStats Compute(IEnumerable<IReadOnlyDictionary<string, string>> items)
    {
        var rated = items.Where(i => i.Count >= 2).ToList();
        var reviewers = rated.SelectMany(i => i.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var pairs = new List<PairAgreement>();
        for (var a = 0; a < reviewers.Count; a++)
            for (var b = a + 1; b < reviewers.Count; b++)
            {
                var shared = rated
                    .Where(i => i.ContainsKey(reviewers[a]) && i.ContainsKey(reviewers[b]))
                    .Select(i => (A: i[reviewers[a]], B: i[reviewers[b]]))
                    .ToList();
                if (shared.Count == 0) continue;
                pairs.Add(new PairAgreement(reviewers[a], reviewers[b], shared.Count,
                    (double)shared.Count(s => s.A == s.B) / shared.Count, CohensKappa(shared)));
            }
        return new AgreementStats(rated.Count, pairs, FleissKappa(rated));
    }

    public static double? CohensKappa(IReadOnlyList<(string A, string B)> ratings)
    {
        if (ratings.Count == 0) return null;
        double n = ratings.Count;
        var observed = ratings.Count(r => r.A == r.B) / n;
        var expected = ratings.Select(r => r.A).Concat(ratings.Select(r => r.B)).Distinct()
            .Sum(k => ratings.Count(r => r.A == k) / n * (ratings.Count(r => r.B == k) / n));
        return expected >= 1 ? null : (observed - expected) / (1 - expected);
    }

    public static double? FleissKappa(IReadOnlyList<IReadOnlyDictionary<string, string>> items)
    {
        var rated = items.Where(i => i.Count >= 2).ToList();
        if (rated.Count == 0) return null;
        var totals = new Dictionary<string, double>();
        double ratings = 0, sumP = 0;
        foreach (var item in rated)
        {
            var counts = item.Values.GroupBy(v => v).Select(g => (Category: g.Key, Count: (double)g.Count())).ToList();
            double n = item.Count;
            sumP += (counts.Sum(c => c.Count * c.Count) - n) / (n * (n - 1));
            ratings += n;
            foreach (var (category, count) in counts) totals[category] = totals.GetValueOrDefault(category) + count;
        }
        var meanP = sumP / rated.Count;
        var expected = totals.Values.Sum(t => (t / ratings) * (t / ratings));
        return expected >= 1 ? null : (meanP - expected) / (1 - expected);
    }
}
