using Loopvol.Core.Faults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Pool;

/// <summary>The pool's sizing rules, and where it reports.</summary>
public sealed record PoolOptions
{
    /// <summary>Sizes are rounded up to this; it is the block size of every file system the driver makes.</summary>
    public const long BlockSize = 4096;

    /// <summary>The largest volume: the most whole blocks a size in bytes (a signed 64-bit number) can hold.</summary>
    public const long MaxVolumeBytes = long.MaxValue / BlockSize * BlockSize;

    /// <summary>The size of a volume whose request gives none.</summary>
    public long DefaultVolumeBytes { get; init; } = 1L << 30;

    /// <summary>Bytes of the pool file system kept free for everything else.</summary>
    public long ReserveBytes { get; init; }

    /// <summary>
    /// Below this many free bytes the pool's file system counts as full: every create is refused (resource exhausted)
    /// before anything is written, so what is left stays for the journal, deletes and the volumes' own writes.
    /// </summary>
    public long FullBelowBytes { get; init; }

    /// <summary>Provisioned volume capacity may reach this multiple of the file system's usable size.</summary>
    public double OvercommitRatio { get; init; } = 1.0;

    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    /// <summary>Where the pool logs what it does after an answer (the delete sweeper) and the repairs it makes.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;
}
