namespace Loopvol.Journal.Model;

/// <summary>What <see cref="Journal.CheckAsync"/> found for a request name.</summary>
public abstract record CheckResult
{
    private CheckResult()
    {
    }

    /// <summary>No reservation holds the name (a stale one may just have been undone).</summary>
    public sealed record Free : CheckResult;

    /// <summary>The name is reserved with equal arguments: the caller continues with this object.</summary>
    public sealed record Found(Reservation Reservation) : CheckResult;

    /// <summary>The name is reserved with other arguments; <see cref="Difference"/> says which.</summary>
    public sealed record Conflict(Reservation Reservation, string Difference) : CheckResult;
}
