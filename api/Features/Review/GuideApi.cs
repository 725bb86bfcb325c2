using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Features.Synsets;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Review;

/// <summary>One guide note placed in WordNet: the class (and the other class of an "X vs Y" note) with its path from entity.</summary>
public sealed record GuideEntry
{
    public required GuideNote Note { get; init; }
    public required string Lemma { get; init; }
    public required string Gloss { get; init; }
    public required string? OtherLemma { get; init; }
    /// <summary>The class's first hypernym path, from entity down to the class itself.</summary>
    public required SynsetRef[] Path { get; init; }
}

/// <summary>The labeling guide as a whole: every note, placed in the WordNet hierarchy so that it can be browsed by branch.</summary>
public static class GuideApi
{
    public static RouteHandlerBuilder MapGuide(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/guide", Get).WithTags("Review").WithName("GetGuide").RequireAuthorization(Policies.SignedIn)
            .WithSummary("The labeling guide: every note with its class's WordNet path, optionally only those under a branch.");

    private sealed record Row
    {
        public required long Id { get; init; }
        public required string Wnid { get; init; }
        public required string? OtherWnid { get; init; }
        public required string Body { get; init; }
        public required DateTimeOffset UpdatedAt { get; init; }
        public required string Lemma { get; init; }
        public required string Gloss { get; init; }
        public required string? OtherLemma { get; init; }
        public required string[] PathWnids { get; init; }
        public required string[] PathLemmas { get; init; }
    }

    /// <param name="under">Only notes whose class (or other class) lies under this synset (inclusive).</param>
    public static async Task<Ok<GuideEntry[]>> Get(NpgsqlDataSource db, string? under = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        // The first-hypernym chain of each note's class, walked up to the root and read back root first.
        var rows = await connection.QueryAsync<Row>(
            """
            with recursive chain as (
                select n.id as note_id, n.wnid as node, 0 as depth from guide_notes n
                union all
                select c.note_id, s.hypernyms[1], c.depth + 1
                from chain c join synsets s on s.wnid = c.node
                where cardinality(s.hypernyms) > 0 and c.depth < 40
            ), paths as (
                select c.note_id, array_agg(c.node order by c.depth desc) as path_wnids,
                       array_agg(s.lemmas[1] order by c.depth desc) as path_lemmas
                from chain c join synsets s on s.wnid = c.node
                group by c.note_id
            )
            select n.id, n.wnid, n.other_wnid, n.body, n.updated_at, s.lemmas[1] as lemma, s.gloss, o.lemmas[1] as other_lemma,
                   p.path_wnids, p.path_lemmas
            from guide_notes n
            join synsets s on s.wnid = n.wnid
            left join synsets o on o.wnid = n.other_wnid
            join paths p on p.note_id = n.id
            where @under::text is null or @under = any(p.path_wnids)
               or (n.other_wnid is not null and exists (
                    with recursive up as (
                        select n.other_wnid as node, 0 as depth
                        union all
                        select x.hypernyms[1], up.depth + 1 from up join synsets x on x.wnid = up.node
                        where cardinality(x.hypernyms) > 0 and up.depth < 40)
                    select 1 from up where up.node = @under))
            order by p.path_lemmas, n.other_wnid nulls first
            """,
            new { under });
        return TypedResults.Ok(rows.Select(r => new GuideEntry
        {
            Note = new GuideNote { Id = r.Id, Wnid = r.Wnid, OtherWnid = r.OtherWnid, Body = r.Body, UpdatedAt = r.UpdatedAt },
            Lemma = r.Lemma,
            Gloss = r.Gloss,
            OtherLemma = r.OtherLemma,
            Path = r.PathWnids.Zip(r.PathLemmas, (w, l) => new SynsetRef(w, l)).ToArray(),
        }).ToArray());
    }
}
