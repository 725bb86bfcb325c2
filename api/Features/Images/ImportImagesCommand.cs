using Dapper;
using Npgsql;

namespace Relabel.Api.Features.Images;

/// <summary>
/// dotnet run --project api -- import-images --dataset SLUG --dir DIR [--labels FILE]
/// DIR is an ImageFolder tree (one folder per wnid or class index), or a flat folder with a labels file:
/// "file wnid" or "file index" per line, or one wnid per line for the files in sorted order (val_labels.txt).
/// Bad files are reported and skipped; re-running only adds what changed.
/// </summary>
public static class ImportImagesCommand
{
    private sealed record Candidate(string Path, string FileName, string Label, long Line);

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        string? Option(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var slug = Option("--dataset");
        var dir = Option("--dir");
        var labels = Option("--labels");
        if (slug is null || dir is null)
        {
            Console.Error.WriteLine("usage: import-images --dataset SLUG --dir DIR [--labels FILE]");
            return 2;
        }
        if (!Directory.Exists(dir)) { Console.Error.WriteLine($"No such folder: {dir}"); return 2; }
        if (labels is not null && !File.Exists(labels)) { Console.Error.WriteLine($"No such labels file: {labels}"); return 2; }

        var db = services.GetRequiredService<NpgsqlDataSource>();
        var store = services.GetRequiredService<ImageStore>();
        await using var connection = await db.OpenConnectionAsync();
        var dataset = await connection.QuerySingleOrDefaultAsync<(long Id, long LabelSpaceId)?>(
            "select id, label_space_id from datasets where slug = @slug", new { slug });
        if (dataset is null) { Console.Error.WriteLine($"Dataset '{slug}' does not exist."); return 2; }
        var resolver = await LabelResolver.LoadAsync(connection, dataset.Value.LabelSpaceId);

        var problems = new List<string>();
        var candidates = labels is null ? ImageFolder(dir) : FlatFolder(dir, labels, problems);
        int added = 0, updated = 0, unchanged = 0, skipped = problems.Count;
        var seen = new HashSet<string>();
        var progress = new ConsoleProgress(candidates.Count);
        const int batchSize = 500;
        foreach (var batch in candidates.Chunk(batchSize))
        {
            var rows = new List<(string FileName, string Wnid, StoredImage Stored)>();
            foreach (var c in batch)
            {
                progress.Advance();
                if (resolver.Resolve(c.Label) is not { } wnid) { Skip(c, $"label '{c.Label}' is not a class of {slug}"); continue; }
                if (!seen.Add(c.FileName)) { Skip(c, "the same file name was already imported from another folder"); continue; }
                byte[] bytes;
                try { bytes = await File.ReadAllBytesAsync(c.Path); }
                catch (IOException e) { Skip(c, e.Message); continue; }
                if (ImageSniffer.Sniff(bytes) is not { } image) { Skip(c, "not a JPEG, PNG or WebP image"); continue; }
                rows.Add((c.FileName, wnid, await store.SaveAsync(bytes, image.MediaType, image.Width, image.Height)));
            }
            // Each batch commits on its own, so an interrupted import keeps what it did and a re-run skips it.
            var counts = await connection.QuerySingleAsync<(int Added, int Updated)>(
                """
                with upserted as (
                    insert into images (dataset_id, file_name, original_wnid, sha256, byte_size, width, height, media_type)
                    select @datasetId, f, w, h, b, x, y, m
                    from unnest(@files, @wnids, @hashes, @sizes, @widths, @heights, @types) as t(f, w, h, b, x, y, m)
                    on conflict (dataset_id, file_name) do update
                    set original_wnid = excluded.original_wnid, sha256 = excluded.sha256, byte_size = excluded.byte_size,
                        width = excluded.width, height = excluded.height, media_type = excluded.media_type
                    where (images.original_wnid, images.sha256) is distinct from (excluded.original_wnid, excluded.sha256)
                    returning (xmax = 0) as inserted
                )
                select count(*) filter (where inserted)::int, count(*) filter (where not inserted)::int from upserted
                """,
                new
                {
                    datasetId = dataset.Value.Id,
                    files = rows.Select(r => r.FileName).ToArray(),
                    wnids = rows.Select(r => r.Wnid).ToArray(),
                    hashes = rows.Select(r => r.Stored.Sha256).ToArray(),
                    sizes = rows.Select(r => r.Stored.ByteSize).ToArray(),
                    widths = rows.Select(r => r.Stored.Width).ToArray(),
                    heights = rows.Select(r => r.Stored.Height).ToArray(),
                    types = rows.Select(r => r.Stored.MediaType).ToArray(),
                });
            added += counts.Added;
            updated += counts.Updated;
            unchanged += rows.Count - counts.Added - counts.Updated;
        }
        progress.Done();

        foreach (var problem in problems.Take(50)) Console.Error.WriteLine("  skipped " + problem);
        if (problems.Count > 50) Console.Error.WriteLine($"  … and {problems.Count - 50} more");
        Console.WriteLine($"import-images {slug}: {candidates.Count} files, {added} added, {updated} updated, {unchanged} unchanged, {skipped} skipped");
        return 0;

        void Skip(Candidate c, string why)
        {
            skipped++;
            problems.Add(c.Line > 0 ? $"{c.FileName} (labels line {c.Line}): {why}" : $"{c.Path}: {why}");
        }
    }

    private static List<Candidate> ImageFolder(string dir) =>
        Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal)
            .SelectMany(folder => Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal)
                .Select(path => new Candidate(path, Path.GetFileName(path), Path.GetFileName(folder), 0)))
            .ToList();

    private static List<Candidate> FlatFolder(string dir, string labelsFile, List<string> problems)
    {
        var files = Directory.EnumerateFiles(dir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var lines = File.ReadAllLines(labelsFile)
            .Select((text, i) => (Text: text.Trim(), Line: i + 1L))
            .Where(l => l.Text.Length > 0)
            .ToList();
        var candidates = new List<Candidate>();
        var oneColumn = lines.Count > 0 && lines.All(l => l.Text.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries).Length == 1);
        if (oneColumn)
        {
            // val_labels.txt style: line i labels the i-th file in sorted order.
            if (lines.Count != files.Count)
                problems.Add($"{labelsFile}: {lines.Count} labels for {files.Count} files; pairing the first {Math.Min(lines.Count, files.Count)} in sorted order");
            for (var i = 0; i < Math.Min(lines.Count, files.Count); i++)
                candidates.Add(new Candidate(Path.Combine(dir, files[i]), files[i], lines[i].Text, lines[i].Line));
            return candidates;
        }
        var present = files.ToHashSet();
        foreach (var (text, line) in lines)
        {
            var parts = text.Split([' ', '\t', ','], 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2) { problems.Add($"{labelsFile} line {line}: expected 'file label'"); continue; }
            var name = Path.GetFileName(parts[0]);
            if (!present.Contains(name)) { problems.Add($"{labelsFile} line {line}: {name} is not in {dir}"); continue; }
            candidates.Add(new Candidate(Path.Combine(dir, name), name, parts[1].Trim(), line));
        }
        return candidates;
    }

    /// <summary>A one-line progress bar on a terminal; every tenth on a pipe or log.</summary>
    private sealed class ConsoleProgress(int total)
    {
        private int _done;
        private int _lastTenth = -1;

        public void Advance()
        {
            _done++;
            if (!Console.IsErrorRedirected)
            {
                if (_done % 50 != 0 && _done != total) return;
                var filled = total == 0 ? 30 : 30 * _done / total;
                Console.Error.Write($"\r  [{new string('#', filled)}{new string('.', 30 - filled)}] {_done}/{total}");
            }
            else if (total > 0 && 10 * _done / total is var tenth && tenth != _lastTenth)
            {
                _lastTenth = tenth;
                Console.Error.WriteLine($"  {_done}/{total} files");
            }
        }

        public void Done()
        {
            if (!Console.IsErrorRedirected) Console.Error.WriteLine();
        }
    }
}
