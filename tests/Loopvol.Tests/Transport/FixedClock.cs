namespace Loopvol.Tests.Transport;

/// <summary>A clock stopped at one instant, to load certificates as of another time.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
