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
        foreach (var mount in mounts)
        {
            Freezer.Flush(mount); // Outside the window: the freezes that follow have little left to write.
        }
        var hold = new Hold(within is { } asked && asked < limit ? asked : limit, faults, _logger);
        try
        {
            if (mounts.Count > 0)
            {
                hold.StartTimer(); // The limit counts from before the first freeze: no file system stays frozen longer.
            }
            if (mounts.Count > 0 && !hold.Freeze(mounts))
            {
                throw new Core.Errors.AbortedException(
                    $"the freeze limit of {hold.Limit} passed before all {mounts.Count} file systems were frozen; every one " +
                    "was thawed, nothing was kept, and the request may be retried");
            }
            if (mounts.Count > 0)
            {
                faults.Reached("quiesce.frozen");
            }
        }
        catch
        {
            hold.Dispose();
            throw;
        }
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

    /// <summary>
    /// One hold. Freezing, ending at the limit and releasing take one lock, so a thaw at the limit can never run
    /// after the release has returned (and so never thaws a later hold's freeze). A thaw that fails is tried again
    /// every second until it succeeds: no file system stays frozen while the driver lives.
    /// </summary>
    private sealed class Hold(TimeSpan limit, IFaultInjector faults, ILogger logger) : IVolumeHold
    {
        private const int Holding = 0, Released = 1, Ended = 2;
        private readonly Lock _gate = new();
        private readonly List<string> _frozen = [];
        private int _state;
        private bool _disposed;
        private bool _measured;
        private long _frozenAt;
        private Timer? _timer;
        private Timer? _retry;

        public bool Held => Volatile.Read(ref _state) == Holding;

        public TimeSpan Limit => limit;

        /// <summary>Starts the limit's clock.</summary>
        public void StartTimer() => _timer = new Timer(_ => End(), null, limit, Timeout.InfiniteTimeSpan);

        /// <summary>
        /// Freezes the file systems, all at once: they are asked in their fixed order, and each FIFREEZE flushes and
        /// waits for its own file system only (one never waits on another's freeze, so no order of completion can
        /// deadlock), which keeps the window to about one freeze however many there are. False, and nothing frozen,
        /// when the hold has already ended. A freeze that fails is thrown once all have ended; <see cref="Dispose"/>
        /// thaws those that froze.
        /// </summary>
        public bool Freeze(IReadOnlyList<string> mounts)
        {
            lock (_gate)
            {
                if (_state != Holding)
                {
                    return false;
                }
                var frozen = new bool[mounts.Count];
                var errors = new Exception?[mounts.Count];
                // A thread each: FIFREEZE blocks while it flushes, and the thread pool would add threads too slowly.
                var threads = mounts.Select((mount, i) => new Thread(() =>
                {
                    try
                    {
                        Freezer.Freeze(mount);
                        frozen[i] = true;
                        Interlocked.CompareExchange(ref _frozenAt, System.Diagnostics.Stopwatch.GetTimestamp(), 0); // The metric's start.
                    }
                    catch (Exception e) when (e is Core.Errors.LoopvolException or IOException)
                    {
                        errors[i] = e;
                    }
                }) { IsBackground = true, Name = "loopvol-freeze" }).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                _frozen.AddRange(mounts.Where((_, i) => frozen[i]));
                if (errors.FirstOrDefault(e => e is not null) is { } failure)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
                }
                return true;
            }
        }

        /// <summary>Releases the hold: thaws every file system (again, if the limit thawed them: that is harmless).</summary>
        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                _disposed = true;
                _timer?.Dispose();
                if (_state == Holding)
                {
                    Volatile.Write(ref _state, Released);
                }
                ThawOrRetry();
            }
        }

        /// <summary>
        /// The limit passed: <see cref="Held"/> turns false first, then the file systems are thawed. This runs on a
        /// timer thread, where an exception would end the process, so nothing escapes: a failure is logged and tried
        /// again. Fault point: <c>quiesce.expired</c>.
        /// </summary>
        private void End()
        {
            try
            {
                lock (_gate)
                {
                    if (_state != Holding)
                    {
                        return;
                    }
                    Volatile.Write(ref _state, Ended);
                    Expired(logger, _frozen.Count, limit);
                    faults.Reached("quiesce.expired");
                    ThawOrRetry();
                }
            }
            catch (Exception e)
            {
                ExpiryThawFailed(logger, e.Message);
            }
        }

        /// <summary>Thaws them all; if one fails, schedules thawing again every second, and throws the first failure.</summary>
        private void ThawOrRetry()
        {
            if (ThawAll() is { } failure)
            {
                _retry ??= new Timer(_ => Retry(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
            _retry?.Dispose();
            _retry = null;
        }

        private void Retry()
        {
            lock (_gate)
            {
                if (_retry is not null && ThawAll() is null)
                {
                    _retry.Dispose();
                    _retry = null;
                }
            }
        }

        /// <summary>
        /// Thaws them all in reverse order, each even when an earlier one fails; answers the first failure. Each
        /// failure counts in <see cref="DriverMeters.ThawFailed"/>; the first time all thaw, the time they were held
        /// frozen is recorded.
        /// </summary>
        private Exception? ThawAll()
        {
            Exception? first = null;
            foreach (var mount in Enumerable.Reverse(_frozen))
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
            if (first is null && _frozen.Count > 0 && !_measured)
            {
                _measured = true;
                DriverMeters.Froze(System.Diagnostics.Stopwatch.GetElapsedTime(_frozenAt).TotalSeconds);
            }
            return first;
        }
    }
}
