using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Microsoft.Extensions.Logging;

namespace Loopvol.Pool.Internal;

/// <summary>
/// Removes the records of finished deletes after the answer (docs/durability.md). A delete marks its record
/// deleting (durably) and unlinks the image without syncing the directory, then hands the ID here. A record must not
/// go before its unlink is on disk, or a crash could bring back an image no record names; so the sweeper takes every
/// ID handed in so far, syncs the pool directory once for all of them, then removes their records in one journal
/// write. IDs handed in meanwhile wait for the next round. A round that fails is retried with a growing pause; after
/// <see cref="MaxFailures"/> failures in a row the IDs are left (still deleting) for the next delete or the next
/// start, which finishes any record left deleting.
/// </summary>
internal sealed partial class DeleteSweeper(Journal.Journal journal, ImageStore images, IFaultInjector faults, ILogger logger)
{
    private const int MaxFailures = 8;
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(5);
    private readonly Lock _lock = new();
    private readonly List<ObjectId> _waiting = [];
    private Task _round = Task.CompletedTask;
    private bool _running;
    private bool _stopping;

    /// <summary>Hands in the IDs of records whose images are unlinked; their records go once the unlinks are on disk.</summary>
    public void Add(IReadOnlyCollection<ObjectId> ids)
    {
        lock (_lock)
        {
            _waiting.AddRange(ids);
            if (!_running)
            {
                _running = true;
                _round = Task.Run(RunAsync);
            }
        }
    }

    /// <summary>
    /// Finishes what was handed in (retrying no more once a round fails) and returns. Called at shutdown, after the
    /// last delete; what is left stays deleting for the next start.
    /// </summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            _stopping = true;
            return _round;
        }
    }

    private async Task RunAsync()
    {
        var failures = 0;
        var pause = FirstPause;
        while (true)
        {
            List<ObjectId> batch;
            lock (_lock)
            {
                if (_waiting.Count == 0 || failures >= MaxFailures || (failures > 0 && _stopping))
                {
                    _running = false;
                    return;
                }
                batch = [.. _waiting];
                _waiting.Clear();
            }
            try
            {
                await SweepAsync(batch).ConfigureAwait(false);
                failures = 0;
                pause = FirstPause;
            }
            catch (Exception e)
            {
                failures++;
                lock (_lock)
                {
                    _waiting.InsertRange(0, batch);
                }
                Failed(logger, e, batch.Count, failures);
                await Task.Delay(pause).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    /// <summary>One round: the directory synced, then the records removed. Fault points <c>sweep.collected</c>, <c>sweep.synced</c>.</summary>
    private async Task SweepAsync(List<ObjectId> batch)
    {
        faults.Reached("sweep.collected");
        images.SyncDirectory();
        faults.Reached("sweep.synced");
        await journal.RemoveDeletedAsync(batch).ConfigureAwait(false);
    }

    [LoggerMessage(3104, LogLevel.Warning,
        "could not remove the records of {Count} finished delete(s) (attempt {Attempt}); they stay deleting until a later round or the next start")]
    private static partial void Failed(ILogger logger, Exception exception, int count, int attempt);
}
