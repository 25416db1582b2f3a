namespace Loopvol.Grpc.Client;

/// <summary>Per-call settings of the client.</summary>
public sealed record CallOptions
{
    /// <summary>Sent as <c>grpc-timeout</c>; the client itself gives up <see cref="LocalGrace"/> later.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// How much longer than <see cref="Timeout"/> the client waits before cancelling on its own, so that the
    /// server's DEADLINE_EXCEEDED answer is what the caller normally sees.
    /// </summary>
    public TimeSpan LocalGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Extra request headers (metadata).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public CancellationToken CancellationToken { get; init; }
}
