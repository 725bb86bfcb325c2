using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using nietras.SeparatedValues;
using Npgsql;
using Relabel.Api.Features.Jobs;
using Relabel.Api.Features.Labels;
using Relabel.Api.Infrastructure;

namespace Relabel.Api.Features.Interop;

/// <summary>
/// Crowd-rater votes "file_name,wnid,rater,answer" (as in ReaL's rater_votes.csv): every row is checked first
/// (unknown images or classes, bad answers, conflicting duplicates: 422 with line numbers); then a job writes
/// the items and events by binary COPY in one transaction. A dataset's first votes decide the item states as the
/// items are created; later ones re-derive the states once.
/// Crowd votes are decided by the majority of the raters: a dataset deciding by the latest verdict would take whichever
/// rater came last in the file, so the import switches it to the majority rule (and says so). A dataset deciding by
/// agreement keeps its rule only when the caller says so (rule=keep: nothing is decided until N agree, typically until a
/// Dawid-Skene aggregation is applied) or switches when asked (rule=majority); otherwise the import is refused.
/// </summary>
public static class RaterVotesImporter
{
    /// <summary>One vote; Wnid and Rater index the import's lists of classes and raters.</summary>
    private readonly record struct Row(long ImageId, int Wnid, int Rater, byte Answer, long Line)
    {
        /// <summary>Orders votes by question (image, class), then rater; compared by the runtime, not by a delegate.</summary>
        public UInt128 Key => new((ulong)ImageId, (ulong)(uint)Wnid << 32 | (uint)Rater);

        public bool SameQuestion(Row other) => ImageId == other.ImageId && Wnid == other.Wnid;
    }

    private static readonly Comparer<Row> ByLine = Comparer<Row>.Create((a, b) => a.Line.CompareTo(b.Line));

    /// <summary>The checked votes, one per rater and question, in question order; Wnid and Rater index the lists.</summary>
    private sealed record Votes(List<Row> Rows, List<string> Wnids, List<string> Raters);

    private static readonly string[] AnswerVerdicts = [Verdicts.Wrong, Verdicts.Unclear, Verdicts.Correct];

    /// <summary>rule=keep: a dataset deciding by agreement keeps that rule.</summary>
    public const string KeepRule = "keep";

    public static async Task<Results<Accepted<JobAccepted>, Ok<ImportUnchanged>, ProblemHttpResult>> ImportAsync(
        string slug, HttpContext context, ClaimsPrincipal user, NpgsqlDataSource db, JobQueue jobs, RelabelOptions options, bool golden,
        string? rule = null)
    {
        if (rule is not (null or Consensus.Majority or KeepRule))
            return Problems.Unprocessable("Invalid rule", "rule",
                "rule: 'majority' (the majority of the raters decides) or 'keep' (a dataset deciding by agreement keeps it).");
        var request = context.Request;
        if (!(request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
              || request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true))
            return TypedResults.Problem(title: "Unsupported content type", statusCode: 415, detail: "Send text/csv (gzip with Content-Encoding: gzip).");
        if (RequestLimits.Apply(context, options.MaxImportBytes) is { } tooLarge) return tooLarge;

        var started = Stopwatch.StartNew();
        LabelHead dataset;
        Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> images;
        HashSet<string> classes;
        // The connection goes back to the pool before the body is read: a slow sender holds none.
        await using (var lookup = await db.OpenConnectionAsync())
        {
            if (await DatasetHeads.LabelHeadAsync(lookup, slug) is not { } found) return Problems.NotFound($"Dataset '{slug}' does not exist.");
            dataset = found;
            if (dataset.ConsensusRule.StartsWith("agreement:", StringComparison.Ordinal) && rule is null)
                return Problems.Unprocessable("The dataset's rule does not fit crowd votes", "rule",
                    $"Dataset '{slug}' decides an item when {dataset.ConsensusRule["agreement:".Length..]} reviewers agree and none disagrees: " +
                    "with several crowd raters per question most items would be conflicts. Import with rule=majority to switch the dataset " +
                    "to the majority of the standing verdicts (every item is re-derived), or with rule=keep to leave the items undecided " +
                    "until N agree or a Dawid-Skene aggregation is applied (POST /api/datasets/{slug}/aggregation with apply).");
            if (dataset.ConsensusRule == Consensus.Latest && rule == KeepRule)
                return Problems.Unprocessable("The dataset's rule does not fit crowd votes", "rule",
                    $"Dataset '{slug}' decides by the latest verdict: whichever rater came last in the file would decide. " +
                    "Import without rule (or with rule=majority) to switch it to the majority rule.");
            images = (await InteropApi.ImageIdsAsync(lookup, dataset.Id)).GetAlternateLookup<ReadOnlySpan<char>>();
            classes = await InteropApi.ClassesAsync(lookup, dataset.LabelSpaceId);
        }

        // Names are looked up as spans: a string is made once per class and rater, not three times per vote.
        var errors = new LineErrors();
        var wnids = new List<string>();
        var wnidIndex = new Dictionary<string, int>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var raters = new List<string>();
        var raterIndex = new Dictionary<string, int>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        var rows = new List<Row>();
        using var sha = SHA256.Create();
        await using (var body = new CryptoStream(
                         new LineLengthLimitedStream(BoundedStream.RequestBody(request, options.MaxImportBytes), options.MaxLineBytes), sha, CryptoStreamMode.Read))
        try
        {
            using var reader = await Sep.New(',').Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true })
                .FromAsync(body, context.RequestAborted);
            await foreach (var row in reader)
            {
                var line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                if (row.ColCount == 1 && row[0].Span.Trim().IsEmpty) continue;
                if (row.ColCount != 4) { errors.Add(line, "row", $"Expected 4 columns 'file_name,wnid,rater,answer', found {row.ColCount}."); continue; }
                var file = row[0].Span;
                if (row.RowIndex == 0 && file.SequenceEqual("file_name")) continue;
                if (!images.TryGetValue(file, out var imageId)) { errors.Add(line, "file_name", $"'{file}' is not an image of {slug}."); continue; }
                var wnid = row[1].Span;
                if (!wnidIndex.TryGetValue(wnid, out var w))
                {
                    if (!classes.Contains(wnid.ToString())) { errors.Add(line, "wnid", $"'{wnid}' is not a class of {slug}."); continue; }
                    wnidIndex[wnid] = w = wnids.Count;
                    wnids.Add(wnid.ToString());
                }
                var rater = row[2].Span.Trim();
                if (rater.Length is 0 or > 100) { errors.Add(line, "rater", "Empty or longer than 100 characters."); continue; }
                if (!raterIndex.TryGetValue(rater, out var r))
                {
                    raterIndex[rater] = r = raters.Count;
                    raters.Add(rater.ToString());
                }
                byte answer = row[3].Span.Trim() switch { "no" => 0, "maybe" => 1, "yes" => 2, _ => 255 };
                if (answer == 255) { errors.Add(line, "answer", $"'{row[3].ToString()}' is not no, maybe or yes."); continue; }
                rows.Add(new Row(imageId, w, r, answer, line));
            }
        }
        catch (LineTooLongException e)
        {
            errors.Add(e.Line, "line", $"Line {e.Line} is longer than {e.Limit} bytes (Relabel:MaxLineBytes).");
            return errors.ToProblem("Invalid rater votes (nothing was imported)");
        }
        if (rows.Count == 0 && !errors.Any) errors.Add(1, "body", "No votes.");

        // The same rater asked the same question twice: identical answers are one vote (the first), different ones a conflict.
        var sorted = rows.ToArray();
        var keys = Array.ConvertAll(sorted, r => r.Key);
        Array.Sort(keys, sorted);
        var unique = new List<Row>(sorted.Length);
        for (var i = 0; i < sorted.Length;)
        {
            var end = i + 1;
            while (end < sorted.Length && keys[end] == keys[i]) end++;
            if (end - i > 1) Array.Sort(sorted, i, end - i, ByLine);
            unique.Add(sorted[i]);
            for (var j = i + 1; j < end; j++)
                if (sorted[j].Answer != sorted[i].Answer)
                    errors.Add(sorted[j].Line, "answer", $"Rater {raters[sorted[j].Rater]} answered this question differently on line {sorted[i].Line}.");
            i = end;
        }
        if (errors.Any) return errors.ToProblem("Invalid rater votes (nothing was imported)");

        var kind = golden ? "golden-votes" : "rater-votes";
        var checksum = Convert.ToHexStringLower(sha.Hash!);
        await using var connection = await db.OpenConnectionAsync();
        if (await connection.ExecuteScalarAsync<bool>(
                "select exists (select 1 from imports where dataset_id = @Id and kind = @kind and checksum = @checksum)",
                new { dataset.Id, kind, checksum }))
            return TypedResults.Ok(new ImportUnchanged("unchanged", "These votes were already imported; nothing was written."));

        // Reported with the job's phases: reading and checking the votes is part of an import's time.
        var read = Math.Round(started.Elapsed.TotalSeconds, 2);
        var jobId = await jobs.EnqueueAsync("import-" + kind, dataset.Id, user.UserId(), unique.Count,
            job => WriteAsync(job, dataset.Id, kind, checksum, golden, new Votes(unique, wnids, raters), read, keep: rule == KeepRule));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, "queued", $"/api/jobs/{jobId}"));
    }

    private static async Task<object> WriteAsync(JobContext job, long datasetId, string kind, string checksum, bool golden, Votes votes, double read, bool keep)
    {
        var started = Stopwatch.StartNew();
        var phases = new Dictionary<string, double> { ["read"] = read };
        var lap = TimeSpan.Zero;
        void Phase(string name)
        {
            phases[name] = Math.Round((started.Elapsed - lap).TotalSeconds, 2);
            lap = started.Elapsed;
        }
        var rows = votes.Rows;

        await using var connection = await job.Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var head = await DatasetHeads.LockAsync(connection, transaction, datasetId, HeadLock.Update)
            ?? throw new JobFailedException("The dataset was deleted before its votes were written.");
        var previousRule = head.ConsensusRule;
        // The votes are decided by the majority (unless an agreement rule is kept); the rule changes with them, in this
        // transaction (and every item is re-derived below).
        var rule = keep && previousRule.StartsWith("agreement:", StringComparison.Ordinal) ? previousRule : Consensus.Majority;
        if (previousRule != rule) await LabelWriter.SetRuleAsync(connection, transaction, datasetId, rule);

        var names = votes.Raters.Select(r => (golden ? "expert:" : "rater:") + r).ToArray();
        var (sourceIds, _) = await LabelImport.SourcesAsync(connection, transaction, names,
            names.Select(_ => golden ? "expert" : "rater").ToArray(),
            names.Select(_ => golden ? "Expert answer to control questions" : "External crowd rater").ToArray());
        // A dataset's first votes: the states follow from the votes in hand, in the order their events get their ids.
        var fresh = !await connection.ExecuteScalarAsync<bool>(
            """
            select exists (select 1 from verdict_events e join review_items r on r.id = e.item_id join images i on i.id = r.image_id
                           where i.dataset_id = @datasetId)
            """,
            new { datasetId }, transaction);
        Phase("sources");

        // Questions are runs of rows; events will be written in row order, so a row's index orders it as its id will.
        var starts = new List<int>();
        for (var i = 0; i < rows.Count; i++)
            if (i == 0 || !rows[i].SameQuestion(rows[i - 1])) starts.Add(i);
        starts.Add(rows.Count);
        var questions = new (long ImageId, string Wnid)[starts.Count - 1];
        for (var q = 0; q < questions.Length; q++) questions[q] = (rows[starts[q]].ImageId, votes.Wnids[rows[starts[q]].Wnid]);
        var states = fresh ? DecideStates(rows, starts, sourceIds, rule) : null;
        Phase("states");

        var (items, changed) = await LabelImport.EnsureItemsAsync(connection, transaction, questions, states, golden, CancellationToken.None);
        Phase("items");
        await job.ReportAsync(0, rows.Count, "writing votes", force: true);

        var append = await LabelImport.BeginAsync(connection, transaction, datasetId, head.LabelVersion);
        await append.CopyVotesAsync(VotesOf(rows, starts, items, sourceIds), done => job.ReportAsync(done, rows.Count, "writing votes"));
        Phase("events");
        await job.ReportAsync(rows.Count, rows.Count, "deriving item states", force: true);

        long labelVersion;
        if (fresh) labelVersion = await append.FinishAsync(changed, 0);
        else (changed, labelVersion) = await append.RederiveAndFinishAsync(rule);
        Phase(fresh ? "label-version" : "rederive");
        await connection.ExecuteAsync(
            "insert into imports (dataset_id, kind, checksum, job_id) values (@datasetId, @kind, @checksum, @jobId)",
            new { datasetId, kind, checksum, jobId = job.Id }, transaction);
        await transaction.CommitAsync();
        Phase("commit");
        return new
        {
            votes = rows.Count, questions = questions.Length, raters = votes.Raters.Count, changedItems = changed, labelVersion,
            rule, ruleChangedFrom = previousRule == rule ? null : previousRule,
            seconds = started.Elapsed.TotalSeconds, phases,
        };
    }

    /// <summary>
    /// The states of a dataset's first votes: each rater answers a question once, so its state is the rule applied to its
    /// answers in event order. Each distinct sequence of answers (there are few) is decided once, by Consensus.Decide.
    /// </summary>
    private static string[] DecideStates(List<Row> rows, List<int> starts, long[] sourceIds, string rule)
    {
        var authors = sourceIds.Select(id => LabelAuthor.Source(id).Key).ToArray();
        var states = new string[starts.Count - 1];
        var decided = new Dictionary<ulong, string>();
        for (var q = 0; q < states.Length; q++)
        {
            var (first, count) = (starts[q], starts[q + 1] - starts[q]);
            var key = count < 32 ? 1UL << 2 * count : 0;
            for (var i = 0; i < count && key != 0; i++) key |= (ulong)rows[first + i].Answer << 2 * i;
            if (key != 0 && decided.TryGetValue(key, out var state)) { states[q] = state; continue; }
            state = Consensus.Decide(
                Enumerable.Range(first, count).Select(i => new VerdictEvent(i, authors[rows[i].Rater], AnswerVerdicts[rows[i].Answer], false)), rule);
            if (key != 0) decided[key] = state;
            states[q] = state;
        }
        return states;
    }

    /// <summary>The votes as events, question by question (in row order).</summary>
    private static IEnumerable<BulkVote> VotesOf(List<Row> rows, List<int> starts, long[] items, long[] sourceIds)
    {
        for (var q = 0; q < items.Length; q++)
            for (var i = starts[q]; i < starts[q + 1]; i++)
                yield return new BulkVote(items[q], sourceIds[rows[i].Rater], AnswerVerdicts[rows[i].Answer]);
    }
}
