using Relabel.Api.Features.Labels;
using Xunit;

namespace Relabel.Api.Tests.Labels;

public sealed class ConsensusTests
{
    private static VerdictEvent E(long id, string author, string verdict, bool adjudication = false) => new(id, author, verdict, adjudication);

    [Fact]
    public void No_events_or_only_dont_know_leave_an_item_pending()
    {
        Assert.Equal("pending", Consensus.Decide([], "latest"));
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "dont-know"), E(2, "b", "dont-know")], "latest"));
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "dont-know")], "agreement:1"));
    }

    [Fact]
    public void Latest_takes_the_most_recent_standing_decisive_verdict()
    {
        Assert.Equal("wrong", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "wrong")], "latest"));
        Assert.Equal("wrong", Consensus.Decide([E(2, "b", "wrong"), E(1, "a", "correct")], "latest"));
        // A later "don't know" does not overrule an earlier decision by someone else…
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "dont-know")], "latest"));
        // …but replaces its own author's earlier verdict.
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "correct"), E(2, "a", "dont-know")], "latest"));
    }

    [Fact]
    public void Unreviewed_withdraws_the_authors_verdict()
    {
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "correct"), E(2, "a", "unreviewed")], "latest"));
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "wrong"), E(3, "b", "unreviewed")], "latest"));
    }

    [Fact]
    public void Agreement_needs_N_authors_and_disagreement_is_a_conflict()
    {
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "correct")], "agreement:2"));
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "correct")], "agreement:2"));
        // The same author twice is one vote.
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "correct"), E(2, "a", "correct")], "agreement:2"));
        Assert.Equal("conflict", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "wrong")], "agreement:2"));
        Assert.Equal("conflict", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "correct"), E(3, "c", "unclear")], "agreement:2"));
        // A changed mind resolves the conflict.
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "wrong"), E(3, "b", "correct")], "agreement:2"));
    }

    [Fact]
    public void An_adjudication_is_the_final_word_until_withdrawn()
    {
        var conflict = new[] { E(1, "a", "correct"), E(2, "b", "wrong") };
        Assert.Equal("wrong", Consensus.Decide([.. conflict, E(3, "admin", "wrong", adjudication: true)], "agreement:2"));
        Assert.Equal("wrong", Consensus.Decide([.. conflict, E(3, "admin", "wrong", true), E(4, "c", "correct")], "agreement:2"));
        Assert.Equal("conflict", Consensus.Decide([.. conflict, E(3, "admin", "wrong", true), E(4, "admin", "unreviewed", true)], "agreement:2"));
    }

    [Fact]
    public void Majority_weighs_correct_against_wrong_and_a_split_crowd_is_unclear()
    {
        Assert.Equal("pending", Consensus.Decide([E(1, "a", "dont-know")], "majority"));
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct")], "majority"));
        Assert.Equal("correct", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "correct"), E(3, "c", "wrong"), E(4, "d", "unclear")], "majority"));
        Assert.Equal("wrong", Consensus.Decide([E(1, "a", "wrong"), E(2, "b", "unclear"), E(3, "c", "unclear")], "majority"));
        Assert.Equal("unclear", Consensus.Decide([E(1, "a", "correct"), E(2, "b", "wrong")], "majority"));
        Assert.Equal("unclear", Consensus.Decide([E(1, "a", "unclear")], "majority"));
        // The same author twice is one vote; an adjudication is still the final word.
        Assert.Equal("unclear", Consensus.Decide([E(1, "a", "correct"), E(2, "a", "correct"), E(3, "b", "wrong")], "majority"));
        Assert.Equal("wrong", Consensus.Decide([E(1, "a", "correct"), E(2, "admin", "wrong", true)], "majority"));
    }

    [Fact]
    public void Unknown_rules_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Consensus.Decide([], "plurality"));
        Assert.Throws<ArgumentException>(() => Consensus.Decide([], "agreement:0"));
    }
}
