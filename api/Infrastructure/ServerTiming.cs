using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Relabel.Api.Infrastructure;

/// <summary>
/// The phases of one request and how long each took, sent back as a Server-Timing header (browsers' developer tools
/// and the benchmarks read it), so a slow board says where its time went without a profiler.
/// </summary>
public sealed class ServerTiming
{
    private readonly List<(string Name, double Ms)> _phases = [];
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    // The garbage collector's pauses are inside the phases; reported apart too ("gc"), since a pause lands in any phase.
    private readonly TimeSpan _paused = GC.GetTotalPauseDuration();

    /// <summary>Ends the phase running since the last mark (or the start) under this name.</summary>
    public void Mark(string name)
    {
        lock (_phases) _phases.Add((name, _watch.Elapsed.TotalMilliseconds));
        _watch.Restart();
    }

    /// <summary>name;dur=1.23, ... with durations in milliseconds; phases of the same name add up.</summary>
    public string Header()
    {
        lock (_phases)
        {
            var sb = new StringBuilder();
            foreach (var group in _phases.GroupBy(p => p.Name))
            {
                if (sb.Length > 0) sb.Append(", ");
                sb.Append(group.Key).Append(";dur=").Append(group.Sum(p => p.Ms).ToString("0.##", CultureInfo.InvariantCulture));
            }
            var gc = (GC.GetTotalPauseDuration() - _paused).TotalMilliseconds;
            sb.Append(sb.Length > 0 ? ", " : "").Append("gc;dur=").Append(gc.ToString("0.##", CultureInfo.InvariantCulture));
            return sb.ToString();
        }
    }
}
