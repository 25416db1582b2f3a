namespace Loopvol.Core.Health;

/// <summary>One condition the driver needs before it can serve; the Identity Probe runs all of them.</summary>
public interface IReadinessCheck
{
    string Name { get; }

    /// <summary>Null when ready, else why not.</summary>
    ValueTask<string?> CheckAsync(CancellationToken cancellationToken);
}
