using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using nietras.SeparatedValues;
using Npgsql;
using NpgsqlTypes;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Review;
using Relabel.Api.Features.Images;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Interop;

/// <summary>
/// Crowd-rater votes "file_name,wnid,rater,answer" (as in ReaL's rater_votes.csv): every row is checked first
/// (unknown images or classes, bad answers, conflicting duplicates: 422 with line numbers); then a job writes
/// the items and events by binary COPY in one transaction and re-derives the item states once.
/// </summary>
public static class RaterVotesImporter
{
    private record struct Row(long ImageId, int Wnid, int Rater, byte Answer, long Line);

    private static readonly string[] AnswerVerdicts = [Verdicts.Wrong, Verdicts.Unclear, Verdicts.Correct];

    public static async Task<Results<Accepted<JobAccepted>, Ok<ImportUnchanged>, ProblemHttpResult>> ImportAsync(
        string slug, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs, RelabelOptions options, bool golden)
    {
        var request = context.Request;
        if (!(request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
              || request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true))
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: "Send text/csv (gzip with Content-Encoding: gzip).");
        if (RequestLimits.Apply(context, options.MaxImportBytes) is { } tooLarge) return tooLarge;

        await using var connection = await db.OpenConnectionAsync();
        if (await InteropApi.DatasetAsync(connection, slug) is not { } dataset) return Problems.NotFound($"Dataset '{slug}' does not exist.");
        var images = await InteropApi.ImageIdsAsync(connection, dataset.Id);
        var classes = await InteropApi.ClassesAsync(connection, dataset.LabelSpaceId);

        var errors = new LineErrors();
        var wnids = new List<string>();
        var wnidIndex = new Dictionary<string, int>();
        var raters = new List<string>();
        var raterIndex = new Dictionary<string, int>();
        var rows = new List<Row>();
        using var sha = SHA256.Create();
        await using (var body = new CryptoStream(BoundedStream.RequestBody(request, options.MaxImportBytes), sha, CryptoStreamMode.Read))
        {
            using var reader = await Sep.New(',').Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true })
                .FromAsync(body, context.RequestAborted);
            await foreach (var row in reader)
            {
                var line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty) continue;
                if (row.ColCount != 4) { errors.Add(line, "row", $"Expected 4 columns 'file_name,wnid,rater,answer', found {row.ColCount}."); continue; }
                var file = row[0].ToString();
                if (row.RowIndex == 0 && file == "file_name") continue;
                if (!images.TryGetValue(file, out var imageId)) { errors.Add(line, "file_name", $"'{file}' is not an image of {slug}."); continue; }
                var wnid = row[1].ToString();
                if (!wnidIndex.TryGetValue(wnid, out var w))
                {
                    if (!classes.Contains(wnid)) { errors.Add(line, "wnid", $"'{wnid}' is not a class of {slug}."); continue; }
                    wnidIndex[wnid] = w = wnids.Count;
                    wnids.Add(wnid);
                }
                var rater = row[2].ToString().Trim();
                if (rater.Length is 0 or > 100) { errors.Add(line, "rater", "Empty or longer than 100 characters."); continue; }
                if (!raterIndex.TryGetValue(rater, out var r)) { raterIndex[rater] = r = raters.Count; raters.Add(rater); }
                byte answer = row[3].Span.Trim() switch { "no" => 0, "maybe" => 1, "yes" => 2, _ => 255 };
                if (answer == 255) { errors.Add(line, "answer", $"'{row[3].ToString()}' is not no, maybe or yes."); continue; }
                rows.Add(new Row(imageId, w, r, answer, line));
            }
        }
        if (rows.Count == 0 && !errors.Any) errors.Add(1, "body", "No votes.");

        // The same rater asked the same question twice: identical answers are one vote, different ones a conflict.
        rows.Sort((a, b) => (a.ImageId, a.Wnid, a.Rater, a.Line).CompareTo((b.ImageId, b.Wnid, b.Rater, b.Line)));
        var unique = new List<Row>(rows.Count);
        foreach (var row in rows)
        {
            if (unique.Count > 0 && unique[^1] is var last && (last.ImageId, last.Wnid, last.Rater) == (row.ImageId, row.Wnid, row.Rater))
            {
                if (last.Answer != row.Answer)
                    errors.Add(row.Line, "answer", $"Rater {raters[row.Rater]} answered this question differently on line {last.Line}.");
                continue;
            }
            unique.Add(row);
        }
        if (errors.Any) return errors.ToProblem("Invalid rater votes (nothing was imported)");

        var kind = golden ? "golden-votes" : "rater-votes";
        var checksum = Convert.ToHexStringLower(sha.Hash!);
        if (await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from imports where dataset_id = @Id and kind = @kind and checksum = @checksum)",
                new { dataset.Id, kind, checksum }))
            return TypedResults.Ok(new ImportUnchanged("unchanged", "These votes were already imported; nothing was written."));

        var jobId = await jobs.EnqueueAsync("import-" + kind, dataset.Id, user.UserId(), unique.Count,
            job => WriteAsync(job, dataset.Id, kind, checksum, golden, unique, wnids, raters));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, "queued", $"/api/jobs/{jobId}"));
    }

    private static async Task<object> WriteAsync(
        JobContext job, long datasetId, string kind, string checksum, bool golden, List<Row> rows, List<string> wnids, List<string> raters)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await job.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var (rule, current) = await connection.QuerySingleAsync<(string, long)>(
            "select consensus_rule, label_version from datasets where id = @datasetId for update", new { datasetId }, transaction);

        var names = raters.Select(r => (golden ? "expert:" : "rater:") + r).ToArray();
        await connection.ExecuteAsync(
            """
            insert into verdict_sources (name, kind, description)
            select n, @sourceKind, @description from unnest(@names) as n
            on conflict (name) do nothing
            """,
            new { names, sourceKind = golden ? "expert" : "rater", description = golden ? "Expert answer to control questions" : "External crowd rater" },
            transaction);
        var sourceIds = (await connection.QueryAsync<(string Name, long Id)>(
            "select name, id from verdict_sources where name = any(@names)", new { names }, transaction)).ToDictionary(s => s.Name, s => s.Id);

        var phases = new Dictionary<string, double>();
        void Phase(string name) { phases[name] = Math.Round(started.Elapsed.TotalSeconds - phases.Values.Sum(), 2); }
        Phase("sources");
        var items = await ReviewItemsBulk.EnsureAsync(connection, transaction, rows.Select(r => (r.ImageId, wnids[r.Wnid])), golden, CancellationToken.None);
        Phase("items");
        await job.ReportAsync(0, rows.Count, "writing votes", force: true);

        // Events carry the label version their import creates; fixed below if nothing changed.
        var version = current + 1;
        // A dataset's first votes: the states follow from the votes in hand, in the order their events get their ids.
        var fresh = !await connection.ExecuteScalarAsync<bool>(
            """
            select exists (select 1 from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                           where i.dataset_id = @datasetId)
            """,
            new { datasetId }, transaction);
        long written = 0;
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy verdict_events (item_id, source_id, verdict, label_version) from stdin (format binary)"))
        {
            foreach (var row in rows)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(items[(row.ImageId, wnids[row.Wnid])], NpgsqlDbType.Bigint);
                await copy.WriteAsync(sourceIds[names[row.Rater]], NpgsqlDbType.Bigint);
                await copy.WriteAsync(AnswerVerdicts[row.Answer], NpgsqlDbType.Text);
                await copy.WriteAsync(version, NpgsqlDbType.Bigint);
                if (++written % 50_000 == 0) await job.ReportAsync(written, rows.Count, "writing votes");
            }
            await copy.CompleteAsync();
        }
        Phase("events");
        await job.ReportAsync(written, rows.Count, "deriving item states", force: true);
        var (changed, labelVersion) = fresh
            ? await DeriveFreshAsync(connection, transaction, datasetId, rule, rows, items, wnids, names, sourceIds)
            : await ReviewWriter.RederiveAsync(connection, transaction, datasetId, rule);
        Phase("states");
        if (labelVersion != version)
            await connection.ExecuteAsync(
                "update verdict_events set label_version = @labelVersion where label_version = @version and source_id = any(@sources)",
                new { labelVersion, version, sources = sourceIds.Values.ToArray() }, transaction);
        await connection.ExecuteAsync(
            "insert into imports (dataset_id, kind, checksum, job_id) values (@datasetId, @kind, @checksum, @jobId)",
            new { datasetId, kind, checksum, jobId = job.Id }, transaction);
        await transaction.CommitAsync();
        Phase("commit");
        return new { votes = rows.Count, questions = items.Count, raters = raters.Count, changedItems = changed, labelVersion, seconds = started.Elapsed.TotalSeconds, phases };
    }

    /// <summary>Item states from the imported votes alone (no earlier events exist), written in one statement.</summary>
    private static async Task<(int Changed, long LabelVersion)> DeriveFreshAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long datasetId, string rule, List<Row> rows,
        Dictionary<(long ImageId, string Wnid), long> items, List<string> wnids, string[] names, Dictionary<string, long> sourceIds)
    {
        var states = new List<(long ItemId, string State)>();
        var position = 0L;
        foreach (var question in rows.GroupBy(r => items[(r.ImageId, wnids[r.Wnid])]))
        {
            var events = question.Select(r => new VerdictEvent(position++, $"s{sourceIds[names[r.Rater]]}", AnswerVerdicts[r.Answer], false));
            var state = Consensus.Decide(events, rule);
            if (state != ItemStates.Pending) states.Add((question.Key, state));
        }
        await connection.ExecuteAsync(
            "create temporary table derived_states (item_id bigint not null, state text not null) on commit drop", transaction: transaction);
        await using (var copy = await connection.BeginBinaryImportAsync("copy derived_states (item_id, state) from stdin (format binary)"))
        {
            foreach (var (itemId, state) in states)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(itemId, NpgsqlDbType.Bigint);
                await copy.WriteAsync(state, NpgsqlDbType.Text);
            }
            await copy.CompleteAsync();
        }
        var changed = await connection.ExecuteAsync(
            """
            update review_items r set state = t.state, version = r.version + 1
            from derived_states t where r.id = t.item_id and r.state <> t.state
            """,
            transaction: transaction);
        var labelVersion = changed == 0
            ? await connection.ExecuteScalarAsync<long>("select label_version from datasets where id = @datasetId", new { datasetId }, transaction)
            : await ReviewWriter.NewLabelVersionAsync(connection, transaction, datasetId, changed, 0);
        return (changed, labelVersion);
    }
}
