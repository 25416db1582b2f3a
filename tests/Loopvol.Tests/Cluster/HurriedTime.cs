using System.Collections.Concurrent;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// A clock whose waits are asked for in full but pass in a few milliseconds: each wait asked for is kept (so a test
/// reads the backoff) and moves the clock on by its length (so an outage lasts as long as its backoffs add up to).
/// </summary>
public sealed class HurriedTime : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _waits = new();
    private readonly DateTimeOffset _start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public IReadOnlyList<TimeSpan> Waits => [.. _waits];

    public override DateTimeOffset GetUtcNow() => _start + TimeSpan.FromTicks(_waits.Sum(w => w.Ticks));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return System.CreateTimer(callback, state, dueTime, period);
        }
        _waits.Enqueue(dueTime);
        return System.CreateTimer(callback, state, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
    }
}
