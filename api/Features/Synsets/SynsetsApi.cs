using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Synsets;

public sealed record SynsetSummary(string Wnid, string[] Lemmas, string Gloss, int? ClassIndex);

public sealed record SynsetRef(string Wnid, string Lemma);

public sealed record SynsetChild(string Wnid, string[] Lemmas, bool InLabelSpace, int? ClassIndex, int ClassesBelow);

public sealed record SynsetDetail(
    string Wnid,
    string[] Lemmas,
    string Gloss,
    string[] Hypernyms,
    IReadOnlyList<IReadOnlyList<SynsetRef>> Paths,
    string? Dataset,
    IReadOnlyList<SynsetChild> Children);

public static class SynsetsApi
{
    public const string Entity = "n00001740";

    public static RouteGroupBuilder MapSynsets(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/synsets").WithTags("Synsets").WithValidation();
        group.MapGet("/", Search).WithName("SearchSynsets")
            .WithSummary("Search WordNet noun synsets by lemma (exact, then prefix, then substring), optionally within a dataset's label space.");
        group.MapGet("/{wnid}", Get).WithName("GetSynset")
            .WithSummary("A synset: lemmas, gloss, every hypernym path to entity, and its children within a dataset's label space.");
        return group;
    }

    private sealed record Hit
    {
        public required string Wnid { get; init; }
        public required string[] Lemmas { get; init; }
        public required string Gloss { get; init; }
        public required int? ClassIndex { get; init; }
    }

    /// <param name="q">Text to find in lemmas, case-insensitive. Fewer than 3 characters match lemma prefixes only.</param>
    /// <param name="dataset">Restrict to this dataset's label space.</param>
    /// <param name="limit">At most this many results (1-100, default 20).</param>
    public static async Task<Results<Ok<SynsetSummary[]>, ProblemHttpResult>> Search(
        NpgsqlDataSource db, string? q = null, string? dataset = null, int limit = 20)
    {
        if (limit is < 1 or > 100) return Problems.Unprocessable("Invalid limit", "limit", "limit must be between 1 and 100.");
        var text = (q ?? "").Trim().ToLowerInvariant();
        await using var connection = await db.OpenConnectionAsync();
        long? labelSpace = null;
        if (dataset is not null)
        {
            labelSpace = await connection.QuerySingleOrDefaultAsync<long?>(
                "select label_space_id from datasets where slug = @dataset", new { dataset });
            if (labelSpace is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
        }
        if (text.Length == 0 && labelSpace is null)
            return Problems.Unprocessable("Missing query", "q", "Give q, or a dataset to list its classes.");

        var escaped = text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
        // Rank: an exact lemma, then a lemma starting with q, then q inside a lemma; earlier lemmas and shorter names first.
        // Within a label space the search starts from its classes (a few thousand lemmas); over all of WordNet it
        // uses the prefix (btree) and substring (trigram) indexes of synset_lemmas.
        var candidates = labelSpace is null
            ? "from synset_lemmas l"
            : "from label_space_classes lc join synset_lemmas l on l.wnid = lc.wnid and lc.label_space_id = @labelSpace";
        var hits = await connection.QueryAsync<Hit>(
            $"""
             with matches as (
                 select l.wnid,
                        min(case when l.lemma_lower = @text then 0
                                 when l.lemma_lower like @prefix then 1
                                 else 2 end) as rank,
                        min(l.position) as position,
                        min(length(l.lemma)) as length
                 {candidates}
                 where l.lemma_lower like @prefix or (@substring and l.lemma_lower like @contains)
                 group by l.wnid
             )
             select s.wnid, s.lemmas, s.gloss, c.class_index
             from matches m
             join synsets s on s.wnid = m.wnid
             left join label_space_classes c on c.label_space_id = @labelSpace and c.wnid = s.wnid
             order by m.rank, m.position, m.length, coalesce(c.class_index, 0), s.wnid
             limit @limit
             """,
            new
            {
                text,
                prefix = escaped + "%",
                contains = "%" + escaped + "%",
                substring = text.Length >= 3 || labelSpace is not null,
                labelSpace,
                limit,
            });
        return TypedResults.Ok(hits.Select(h => new SynsetSummary(h.Wnid, h.Lemmas, h.Gloss, h.ClassIndex)).ToArray());
    }

    private sealed record Node
    {
        public required string Wnid { get; init; }
        public required string[] Lemmas { get; init; }
        public required string Gloss { get; init; }
        public required string[] Hypernyms { get; init; }
    }

    private sealed record ChildRow
    {
        public required string Wnid { get; init; }
        public required string[] Lemmas { get; init; }
        public required int? ClassIndex { get; init; }
        public required int ClassesBelow { get; init; }
    }

    /// <param name="wnid">A WordNet noun id such as n02084071.</param>
    /// <param name="dataset">List the children that lead to this dataset's classes.</param>
    public static async Task<Results<Ok<SynsetDetail>, ProblemHttpResult>> Get(
        NpgsqlDataSource db, string wnid, string? dataset = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        var nodes = (await connection.QueryAsync<Node>(
            """
            with recursive up(wnid) as (
                select @wnid::text
                union
                select h.wnid
                from up
                join synsets s on s.wnid = up.wnid
                cross join lateral unnest(s.hypernyms) as h(wnid)
            )
            select s.wnid, s.lemmas, s.gloss, s.hypernyms
            from up join synsets s on s.wnid = up.wnid
            """,
            new { wnid })).ToDictionary(n => n.Wnid);
        if (!nodes.TryGetValue(wnid, out var self)) return Problems.NotFound($"Synset '{wnid}' does not exist in WordNet 3.0 nouns.");

        IReadOnlyList<SynsetChild> children;
        if (dataset is not null)
        {
            var labelSpace = await connection.QuerySingleOrDefaultAsync<long?>(
                "select label_space_id from datasets where slug = @dataset", new { dataset });
            if (labelSpace is null) return Problems.NotFound($"Dataset '{dataset}' does not exist.");
            var rows = await connection.QueryAsync<ChildRow>(
                """
                select s.wnid, s.lemmas, c.class_index, count(distinct a.wnid)::int as classes_below
                from synsets s
                join label_space_ancestors a on a.label_space_id = @labelSpace and a.ancestor = s.wnid
                left join label_space_classes c on c.label_space_id = @labelSpace and c.wnid = s.wnid
                where s.hypernyms @> array[@wnid]::text[]
                group by s.wnid, s.lemmas, c.class_index
                order by s.lemmas[1]
                """,
                new { labelSpace, wnid });
            children = rows.Select(r => new SynsetChild(r.Wnid, r.Lemmas, r.ClassIndex is not null, r.ClassIndex, r.ClassesBelow)).ToList();
        }
        else
        {
            var rows = await connection.QueryAsync<ChildRow>(
                """
                select s.wnid, s.lemmas, null::int as class_index, 0 as classes_below
                from synsets s where s.hypernyms @> array[@wnid]::text[] order by s.lemmas[1]
                """,
                new { wnid });
            children = rows.Select(r => new SynsetChild(r.Wnid, r.Lemmas, false, null, 0)).ToList();
        }

        var paths = HypernymPaths(wnid, w => nodes.TryGetValue(w, out var n) ? n.Hypernyms : [])
            .Select(path => (IReadOnlyList<SynsetRef>)path.Select(w => new SynsetRef(w, nodes[w].Lemmas[0])).ToList())
            .ToList();
        return TypedResults.Ok(new SynsetDetail(self.Wnid, self.Lemmas, self.Gloss, self.Hypernyms, paths, dataset, children));
    }

    /// <summary>Every path from the root down to <paramref name="wnid"/>, following all (instance) hypernyms.</summary>
    public static List<List<string>> HypernymPaths(string wnid, Func<string, string[]> hypernymsOf)
    {
        var parents = hypernymsOf(wnid);
        if (parents.Length == 0) return [[wnid]];
        var paths = new List<List<string>>();
        foreach (var parent in parents)
            foreach (var path in HypernymPaths(parent, hypernymsOf))
                paths.Add([.. path, wnid]);
        return paths;
    }
}
