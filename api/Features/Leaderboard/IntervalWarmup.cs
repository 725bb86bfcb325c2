using Relabel.Api.Metrics;

namespace Relabel.Api.Features.Leaderboard;

/// <summary>
/// Computes, in the background, the Clopper-Pearson intervals one count away from those the boards asked for (see
/// <see cref="ClopperPearson.WarmNeighboursAsync"/>): a verdict moves each changed row's counts by one, and a zoo board
/// after a verdict spent most of its time on those intervals.
/// </summary>
public sealed class IntervalWarmup(ILogger<IntervalWarmup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Off the start-up path: a hosted service's first await returns control to the host.
            await Task.Yield();
            // 20 ms after a board stops asking for intervals: once it is written and sent, and before a reviewer's next
            // verdict (the zoo benchmark's come 10-20 ms apart; with 200 ms, most boards after a verdict computed a few
            // hundred intervals themselves).
            await ClopperPearson.WarmNeighboursAsync(TimeSpan.FromMilliseconds(20), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (Exception error)
        {
            // The boards stay right without it, only slower after a verdict.
            logger.LogError(error, "The interval warm-up stopped");
        }
    }
}
