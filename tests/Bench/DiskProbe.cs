using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Relabel.Bench;

/// <summary>
/// The reference for anything that waits for the disk: while a benchmark runs, writes 8 KiB into a file on the
/// database's disk and waits for fdatasync, as a commit waits for its WAL, every 20 ms. A commit cannot be faster than
/// the disk under it; when these syncs stall, durable commits stall with them, whatever the server does.
/// RELABEL_BENCH_DISK names a folder on the database's disk ("make bench" passes the cluster's); else the temp folder.
/// </summary>
public sealed class DiskProbe : IAsyncDisposable
{
    private const int BlockSize = 8192;
    private const int Blocks = 1024;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(20);

    private readonly string _path;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long Started, long Ended)> _syncs = [];
    private readonly Task _running;

    public DiskProbe()
    {
        var folder = Environment.GetEnvironmentVariable("RELABEL_BENCH_DISK") is { Length: > 0 } disk && Directory.Exists(disk)
            ? disk : Path.GetTempPath();
        _path = Path.Combine(folder, $"relabel-disk-probe-{Environment.ProcessId}.bin");
        _file = File.OpenHandle(_path, FileMode.Create, FileAccess.ReadWrite);
        // Written once and synced before the measurement, so that each probe overwrites allocated blocks, as PostgreSQL
        // does in its WAL segments.
        var block = new byte[BlockSize];
        for (var i = 0; i < Blocks; i++) RandomAccess.Write(_file, block, (long)i * BlockSize);
        Sync(_file);
        _running = Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);
    }

    public string Folder => Path.GetDirectoryName(_path)!;

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(int fd);

    private void Run()
    {
        var block = new byte[BlockSize];
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            block[0] = (byte)n;
            var started = Stopwatch.GetTimestamp();
            RandomAccess.Write(_file, block, (long)(n % Blocks) * BlockSize);
            Sync(_file);
            lock (_syncs) _syncs.Add((started, Stopwatch.GetTimestamp()));
            _stop.Token.WaitHandle.WaitOne(Period);
        }
    }

    private static void Sync(Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        if (fdatasync((int)file.DangerousGetHandle()) != 0) throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The syncs between two Stopwatch timestamps, as (started, ended) timestamps.</summary>
    public List<(long Started, long Ended)> Syncs(long from, long to)
    {
        lock (_syncs) return _syncs.Where(s => s.Started >= from && s.Ended <= to).ToList();
    }

    /// <summary>
    /// Whether a request between two timestamps may have waited on one of <paramref name="stalls"/> (slow syncs): it
    /// overlaps one, counted from one probe period before the sync began (when the stall may have started).
    /// </summary>
    public static bool Overlaps(List<(long Started, long Ended)> stalls, long started, long ended) =>
        stalls.Any(s => started < s.Ended && ended > s.Started - (long)(Period.TotalSeconds * Stopwatch.Frequency));

    public static double Milliseconds((long Started, long Ended) sync) => Stopwatch.GetElapsedTime(sync.Started, sync.Ended).TotalMilliseconds;

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _running;
        _file.Dispose();
        File.Delete(_path);
        _stop.Dispose();
    }
}
