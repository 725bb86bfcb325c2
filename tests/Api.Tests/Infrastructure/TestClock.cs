namespace Relabel.Api.Tests.Infrastructure;

/// <summary>A clock that stands still until the test moves it, so that durations the app measures are exact.</summary>
public sealed class TestClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
