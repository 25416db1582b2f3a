namespace Loopvol.Bench.Startup;

/// <summary>How many starts, how often the socket is polled, and how long each step may take.</summary>
internal sealed record StartupOptions
{
    /// <summary>Measured starts of each driver.</summary>
    public int Runs { get; init; } = 10;

    /// <summary>Unmeasured starts of each driver first (page cache, and this process's own gRPC client).</summary>
    public int Warmup { get; init; } = 1;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>How long after the first answered Probe the resident set is read.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest a start may take to answer Probe before the run fails.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest a driver may take to exit after SIGTERM before it is killed.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where each run's scratch directory and socket are made (kept short: a socket path has 107 bytes).</summary>
    public string WorkDirectory { get; init; } = Path.GetTempPath();
}
