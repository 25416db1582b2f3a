using Loopvol.Core.Faults;
using Loopvol.Core.Time;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Journal;

/// <summary>How the journal is opened.</summary>
public sealed record JournalOptions
{
    /// <summary>How long a statement waits for another process's lock on the file (e.g. an operator command).</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public IClock Clock { get; init; } = SystemClock.Instance;

    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    public ILogger Logger { get; init; } = NullLogger.Instance;
}
