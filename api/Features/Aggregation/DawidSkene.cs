namespace Relabel.Api.Features.Aggregation;

/// <summary>One vote: rater <see cref="Rater"/> answered question <see cref="Question"/> with answer index 0..A-1.</summary>
public readonly record struct Vote(int Question, int Rater, int Answer);

/// <summary>The outcome of <see cref="DawidSkene.Run"/>.</summary>
public sealed class DawidSkeneResult
{
    /// <summary>Posterior probability that each question's true class is "correct".</summary>
    public required double[] Posterior { get; init; }

    /// <summary>Per rater, P(answer | true class): [rater][trueClass (0 = wrong, 1 = correct)][answer].</summary>
    public required double[][][] Confusion { get; init; }

    /// <summary>Prior probability that a question's true class is "correct".</summary>
    public required double Prior { get; init; }

    public required int Iterations { get; init; }
    public required bool Converged { get; init; }
}

/// <summary>
/// Dawid and Skene (1979), "Maximum likelihood estimation of observer error-rates using the EM algorithm",
/// for questions with two true classes (the label is wrong / correct for the image) and raters who answer
/// with one of A answers (here no / maybe / yes). Each rater r has a confusion matrix
/// π_r[k][a] = P(rater r answers a | true class k); questions share a prior P(correct).
/// E-step: posterior(q) ∝ prior · Π_r π_r[1][a_rq] against (1 − prior) · Π_r π_r[0][a_rq], in log space.
/// M-step: π_r[k][a] = (Σ_q P(class k | q) · [a_rq = a] + s) / (Σ_q P(class k | q) + A·s), with additive
/// smoothing s so that a rater who never gave an answer keeps a non-zero probability for it.
/// Initialised from the mean answer score (no = 0, maybe = 0.5, yes = 1); stops when no posterior moves
/// by more than the tolerance. Pure: no I/O.
/// </summary>
public static class DawidSkene
{
    public static DawidSkeneResult Run(
        IReadOnlyList<Vote> votes, int questions, int raters, int answers,
        int maxIterations = 200, double tolerance = 1e-7, double smoothing = 0.01)
    {
        var posterior = new double[questions];
        var sums = new double[questions];
        var counts = new int[questions];
        foreach (var v in votes)
        {
            sums[v.Question] += answers == 1 ? 1 : (double)v.Answer / (answers - 1);
            counts[v.Question]++;
        }
        for (var q = 0; q < questions; q++) posterior[q] = counts[q] == 0 ? 0.5 : sums[q] / counts[q];

        var confusion = new double[raters][][];
        for (var r = 0; r < raters; r++) confusion[r] = [new double[answers], new double[answers]];
        var prior = 0.5;
        var iterations = 0;
        var converged = false;
        var logOdds = new double[questions];
        var logRatio = new double[raters * answers];

        while (iterations < maxIterations && !converged)
        {
            iterations++;
            // M-step: class prior and confusion matrices from the current posteriors.
            var totalCorrect = 0.0;
            var answered = 0;
            for (var q = 0; q < questions; q++)
                if (counts[q] > 0) { totalCorrect += posterior[q]; answered++; }
            prior = Math.Clamp(answered == 0 ? 0.5 : totalCorrect / answered, 1e-6, 1 - 1e-6);
            for (var r = 0; r < raters; r++) { Array.Clear(confusion[r][0]); Array.Clear(confusion[r][1]); }
            foreach (var v in votes)
            {
                confusion[v.Rater][1][v.Answer] += posterior[v.Question];
                confusion[v.Rater][0][v.Answer] += 1 - posterior[v.Question];
            }
            for (var r = 0; r < raters; r++)
                for (var k = 0; k < 2; k++)
                {
                    var row = confusion[r][k];
                    var total = row.Sum() + answers * smoothing;
                    for (var a = 0; a < answers; a++) row[a] = (row[a] + smoothing) / total;
                }

            // E-step: posterior log-odds of "correct" for every question.
            for (var r = 0; r < raters; r++)
                for (var a = 0; a < answers; a++)
                    logRatio[r * answers + a] = Math.Log(confusion[r][1][a]) - Math.Log(confusion[r][0][a]);
            var priorLogOdds = Math.Log(prior) - Math.Log(1 - prior);
            Array.Fill(logOdds, priorLogOdds);
            foreach (var v in votes) logOdds[v.Question] += logRatio[v.Rater * answers + v.Answer];

            var change = 0.0;
            for (var q = 0; q < questions; q++)
            {
                if (counts[q] == 0) continue;
                var next = 1 / (1 + Math.Exp(-logOdds[q]));
                change = Math.Max(change, Math.Abs(next - posterior[q]));
                posterior[q] = next;
            }
            converged = change <= tolerance;
        }
        return new DawidSkeneResult { Posterior = posterior, Confusion = confusion, Prior = prior, Iterations = iterations, Converged = converged };
    }

    /// <summary>correct at or above the threshold, wrong at or below 1 − threshold, unclear between.</summary>
    public static string Classify(double posterior, double threshold) =>
        posterior >= threshold ? "correct" : posterior <= 1 - threshold ? "wrong" : "unclear";
}
