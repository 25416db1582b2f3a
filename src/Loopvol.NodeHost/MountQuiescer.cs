using Loopvol.Core.Diagnostics;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.Pool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.NodeHost;

/// <summary>
/// Quiesces volumes by freezing the file systems staged (mounted) on this node, in one fixed order; volumes not
/// mounted here need nothing. Every frozen file system is thawed when the hold is released, when freezing a later
/// one fails, and by a timer when the hold outlasts <paramref name="limit"/>, so a stuck caller cannot keep pods'
/// writes blocked; the hold then reports itself no longer held, so the caller can tell that its copies may not be
/// from one point in time. <see cref="ThawAll"/> runs at start, for a driver that died while holding a freeze.
/// <paramref name="freeze"/> false (tests only: it shows the consistency tests can fail) freezes nothing.
/// </summary>
public sealed partial class MountQuiescer(Journal.Journal journal, TimeSpan limit, IFaultInjector faults,
    ILogger? logger = null, bool freeze = true) : IVolumeQuiescer
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public IVolumeHold Quiesce(IReadOnlyList<ObjectId> volumes, TimeSpan? within = null)
    {
        var mounts = volumes.Where(_ => freeze).Select(v => journal.GetNodeVolume(v.ToString()))
            .Where(n => n is { StageState: NodeState.Mounted } && n.StageArguments?.Block != true)
            .Select(n => n!.StagingPath!)
            .Order(StringComparer.Ordinal)
            .ToList();
        var hold = new Hold(within is { } asked && asked < limit ? asked : limit, faults, _logger);
        try
        {
            foreach (var mount in mounts)
            {
                Freezer.Freeze(mount);
                hold.FrozeOne(mount);
                faults.Reached("quiesce.frozen");
            }
        }
        catch
        {
            hold.Dispose();
            throw;
        }
        hold.StartTimer();
        return hold;
    }

    /// <summary>Thaws every file system staged on this node; those not frozen are untouched.</summary>
    public void ThawAll()
    {
        foreach (var node in journal.NodeVolumes().Where(n => n.StageState == NodeState.Mounted && n.StageArguments?.Block != true))
        {
            if (Directory.Exists(node.StagingPath))
            {
                Freezer.Thaw(node.StagingPath!);
            }
        }
    }

    [LoggerMessage(4010, LogLevel.Warning,
        "a group snapshot held {Count} file system(s) frozen for its limit of {Limit}: thawed them; the group fails")]
    private static partial void Expired(ILogger logger, int count, TimeSpan limit);

    [LoggerMessage(4011, LogLevel.Error, "thawing file systems after the freeze limit failed (tried again on release): {Reason}")]
    private static partial void ExpiryThawFailed(ILogger logger, string reason);

    private sealed class Hold(TimeSpan limit, IFaultInjector faults, ILogger logger) : IVolumeHold
    {
        private const int Holding = 0, Released = 1, Ended = 2;
        private int _state;
        private int _disposed;
        private int _measured;
        private long _frozenAt;
        private Timer? _timer;

        public List<string> Frozen { get; } = [];

        public bool Held => Volatile.Read(ref _state) == Holding;

        public TimeSpan Limit => limit;

        /// <summary>Notes when the first file system froze, for the freeze-duration metric.</summary>
        public void FrozeOne(string mount)
        {
            if (Frozen.Count == 0)
            {
                _frozenAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            Frozen.Add(mount);
        }

        /// <summary>Starts the limit's clock; a hold that froze nothing has nothing to end.</summary>
        public void StartTimer()
        {
            if (Frozen.Count > 0)
            {
                _timer = new Timer(_ => End(), null, limit, Timeout.InfiniteTimeSpan);
            }
        }

        /// <summary>Releases the hold: thaws every file system (again, if the limit thawed them: that is harmless).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }
            _timer?.Dispose();
            Interlocked.CompareExchange(ref _state, Released, Holding);
            ThawAll();
        }

        /// <summary>
        /// The limit passed: <see cref="Held"/> turns false first, then the file systems are thawed. This runs on a
        /// timer thread, where an exception would end the process, so nothing escapes: a failure is logged, and
        /// the release thaws again. Fault point: <c>quiesce.expired</c>.
        /// </summary>
        private void End()
        {
            try
            {
                if (Interlocked.CompareExchange(ref _state, Ended, Holding) != Holding)
                {
                    return;
                }
                Expired(logger, Frozen.Count, limit);
                faults.Reached("quiesce.expired");
                ThawAll();
            }
            catch (Exception e)
            {
                ExpiryThawFailed(logger, e.Message);
            }
        }

        /// <summary>
        /// Thaws them all in reverse order, each even when an earlier one fails; then throws the first failure. Each
        /// failure counts in <see cref="DriverMeters.ThawFailed"/>; the first time all thaw, the time they were held
        /// frozen is recorded.
        /// </summary>
        private void ThawAll()
        {
            Exception? first = null;
            foreach (var mount in Enumerable.Reverse(Frozen))
            {
                try
                {
                    Freezer.Thaw(mount);
                }
                catch (Exception e) when (e is Core.Errors.LoopvolException or IOException)
                {
                    DriverMeters.ThawFailed();
                    first ??= e;
                }
            }
            if (first is null && Frozen.Count > 0 && Interlocked.Exchange(ref _measured, 1) == 0)
            {
                DriverMeters.Froze(System.Diagnostics.Stopwatch.GetElapsedTime(_frozenAt).TotalSeconds);
            }
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
        }
    }
}
