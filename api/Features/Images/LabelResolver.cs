using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Images;

/// <summary>Labels given as a class index or a wnid of one label space.</summary>
public sealed class LabelResolver(Dictionary<int, string> byIndex, HashSet<string> wnids)
{
    public static async Task<LabelResolver> LoadAsync(NpgsqlConnection connection, long labelSpaceId, NpgsqlTransaction? transaction = null)
    {
        var rows = await connection.QueryAsync<(int Index, string Wnid)>(
            "select class_index, wnid from label_space_classes where label_space_id = @labelSpaceId", new { labelSpaceId }, transaction);
        var byIndex = rows.ToDictionary(r => r.Index, r => r.Wnid);
        return new LabelResolver(byIndex, byIndex.Values.ToHashSet());
    }

    public int Count => byIndex.Count;

    public string? Resolve(string label)
    {
        label = label.Trim();
        if (label.Length > 0 && label.Length <= 9 && label.All(char.IsAsciiDigit))
            return byIndex.GetValueOrDefault(int.Parse(label));
        return wnids.Contains(label) ? label : null;
    }
}
