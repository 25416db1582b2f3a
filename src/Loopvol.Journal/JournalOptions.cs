using Loopvol.Core.Faults;
using Loopvol.Core.Time;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Journal;

/// <summary>How the journal is opened.</summary>
public sealed record JournalOptions
{
    /// <summary>
    /// How long a write waits for another process's lock on the file (e.g. an operator command) before it fails
    /// with SQLITE_BUSY: BEGIN tries again with backoff (SqliteBusyRetry), other statements poll for as long.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the journal must go without writes before its log is checkpointed.</summary>
    public TimeSpan CheckpointIdle { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A write-ahead log larger than this is checkpointed even while writes go on.</summary>
    public long CheckpointMaxWalBytes { get; init; } = 64L * 1024 * 1024;

    public IClock Clock { get; init; } = SystemClock.Instance;

    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    public ILogger Logger { get; init; } = NullLogger.Instance;
}
