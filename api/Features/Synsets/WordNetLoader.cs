using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Relabel.Api.Features.Synsets;

/// <summary>One noun synset of WordNet 3.0's data.noun.</summary>
public sealed record WordNetSynset(string Wnid, string[] Lemmas, string Gloss, string[] Hypernyms);

/// <summary>Parses WordNet 3.0's data.noun and bulk-loads it with binary COPY (once, into empty tables).</summary>
public static class WordNetLoader
{
    /// <summary>
    /// A data line: offset lex_filenum ss_type w_cnt(hex) {word lex_id} p_cnt {symbol offset pos source/target} | gloss.
    /// Lines starting with two spaces are the licence header.
    /// </summary>
    public static WordNetSynset? ParseLine(string line)
    {
        if (line.Length == 0 || line[0] == ' ') return null;
        var bar = line.IndexOf(" | ", StringComparison.Ordinal);
        var gloss = bar >= 0 ? line[(bar + 3)..].TrimEnd() : "";
        var fields = (bar >= 0 ? line[..bar] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var wnid = "n" + fields[0];
        var wordCount = int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var lemmas = new string[wordCount];
        for (var i = 0; i < wordCount; i++) lemmas[i] = fields[4 + 2 * i].Replace('_', ' ');

        var at = 4 + 2 * wordCount;
        var pointerCount = int.Parse(fields[at], CultureInfo.InvariantCulture);
        var hypernyms = new List<string>();
        for (var p = 0; p < pointerCount; p++)
        {
            var symbol = fields[at + 1 + 4 * p];
            var pos = fields[at + 3 + 4 * p];
            if (symbol is "@" or "@i" && pos == "n") hypernyms.Add("n" + fields[at + 2 + 4 * p]);
        }
        return new WordNetSynset(wnid, lemmas, gloss, [.. hypernyms]);
    }

    public static IEnumerable<WordNetSynset> Read(string path)
    {
        foreach (var line in File.ReadLines(path))
            if (ParseLine(line) is { } synset) yield return synset;
    }

    public static async Task<int> LoadIfEmptyAsync(NpgsqlDataSource db, string path, ILogger logger, CancellationToken ct = default)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using (var check = new NpgsqlCommand("select exists (select 1 from synsets)", connection))
            if ((bool)(await check.ExecuteScalarAsync(ct))!) return 0;
        if (!File.Exists(path))
            throw new FileNotFoundException($"WordNet 3.0 data.noun not found at {path} (Debian package wordnet-base).", path);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var synsets = Read(path).ToList();
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy synsets (wnid, lemmas, gloss, hypernyms) from stdin (format binary)", ct))
        {
            foreach (var s in synsets)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(s.Wnid, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(s.Lemmas, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                await copy.WriteAsync(s.Gloss, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(s.Hypernyms, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            }
            await copy.CompleteAsync(ct);
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy synset_lemmas (wnid, position, lemma, lemma_lower) from stdin (format binary)", ct))
        {
            foreach (var s in synsets)
                for (short i = 0; i < s.Lemmas.Length; i++)
                {
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(s.Wnid, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(i, NpgsqlDbType.Smallint, ct);
                    await copy.WriteAsync(s.Lemmas[i], NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(s.Lemmas[i].ToLowerInvariant(), NpgsqlDbType.Text, ct);
                }
            await copy.CompleteAsync(ct);
        }
        await transaction.CommitAsync(ct);
        await using (var analyze = new NpgsqlCommand("analyze synsets; analyze synset_lemmas", connection))
            await analyze.ExecuteNonQueryAsync(ct);
        logger.LogInformation("Loaded {Count} WordNet noun synsets in {Seconds:F1} s", synsets.Count, started.Elapsed.TotalSeconds);
        return synsets.Count;
    }
}
