using Dapper;
using Npgsql;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Datasets;

/// <summary>A class list read from a request: wnids in class-index order, each with the line it came from.</summary>
public sealed record ClassList(IReadOnlyList<string> Wnids, IReadOnlyList<long> Lines);

public static class LabelSpaces
{
    /// <summary>The built-in subsets of every label space (ILSVRC-2012: 1000 / 590 / 410 / 118 / 292 / 882).</summary>
    public static readonly (string Name, string Description, string? IncludeRoot, string? ExcludeRoot)[] BuiltInSubsets =
    [
        ("all", "Every class of the label space.", null, null),
        ("objects", "Classes not under organism (n00004475).", null, Organism),
        ("organisms", "Classes under organism (n00004475).", Organism, null),
        ("dogs", "Classes under dog (n02084071).", Dog, null),
        ("organisms-not-dogs", "Organisms that are not dogs.", Organism, Dog),
        ("no-dogs", "Classes not under dog (n02084071).", null, Dog),
    ];

    public const string Organism = "n00004475";
    public const string Dog = "n02084071";

    /// <summary>
    /// Parses a class list: a JSON array of wnids, or text with one class per line as in
    /// LOC_synset_mapping.txt / synset_words.txt ("n01440764 tench, Tinca tinca"); blank lines are skipped.
    /// </summary>
    public static ClassList? Parse(string body, bool json, LineErrors errors)
    {
        if (json)
        {
            string[]? array;
            try { array = System.Text.Json.JsonSerializer.Deserialize<string[]>(body); }
            catch (System.Text.Json.JsonException e)
            {
                errors.Add(e.LineNumber + 1 ?? 0, "body", "Expected a JSON array of wnids: " + e.Message);
                return null;
            }
            if (array is null) { errors.Add(1, "body", "Expected a JSON array of wnids."); return null; }
            return new ClassList(array, array.Select((_, i) => (long)i + 1).ToList());
        }
        var wnids = new List<string>();
        var lines = new List<long>();
        var number = 0L;
        foreach (var raw in body.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var end = line.IndexOfAny([' ', '\t', ',']);
            wnids.Add(end < 0 ? line : line[..end]);
            lines.Add(number);
        }
        return new ClassList(wnids, lines);
    }

    /// <summary>Unknown and duplicate wnids, each with its line.</summary>
    public static async Task ValidateAsync(NpgsqlConnection connection, ClassList classes, LineErrors errors)
    {
        if (classes.Wnids.Count == 0) { errors.Add(1, "classes", "The class list is empty."); return; }
        var known = (await connection.QueryAsync<string>(
            "select wnid from synsets where wnid = any(@wnids)", new { wnids = classes.Wnids.Distinct().ToArray() })).ToHashSet();
        var seen = new Dictionary<string, long>();
        for (var i = 0; i < classes.Wnids.Count; i++)
        {
            var wnid = classes.Wnids[i];
            var line = classes.Lines[i];
            if (!known.Contains(wnid))
                errors.Add(line, "wnid", $"'{wnid}' is not a WordNet 3.0 noun synset id (n + 8 digits).");
            else if (seen.TryGetValue(wnid, out var first))
                errors.Add(line, "wnid", $"'{wnid}' is listed twice (first on line {first}).");
            else seen[wnid] = line;
        }
    }

    /// <summary>Stores classes (index = position) and their ancestor-or-self closure for subset queries.</summary>
    public static async Task ReplaceClassesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long labelSpaceId, IReadOnlyList<string> wnids)
    {
        await connection.ExecuteAsync(
            """
            delete from label_space_ancestors where label_space_id = @labelSpaceId;
            delete from label_space_classes where label_space_id = @labelSpaceId;
            insert into label_space_classes (label_space_id, class_index, wnid)
            select @labelSpaceId, (t.ord - 1)::int, t.wnid
            from unnest(@wnids::text[]) with ordinality as t(wnid, ord);
            insert into label_space_ancestors (label_space_id, wnid, ancestor)
            with recursive up(wnid, ancestor) as (
                select c.wnid, c.wnid from label_space_classes c where c.label_space_id = @labelSpaceId
                union
                select up.wnid, h.ancestor
                from up
                join synsets s on s.wnid = up.ancestor
                cross join lateral unnest(s.hypernyms) as h(ancestor)
            )
            select @labelSpaceId, wnid, ancestor from up;
            """,
            new { labelSpaceId, wnids = wnids.ToArray() }, transaction);
    }
}
