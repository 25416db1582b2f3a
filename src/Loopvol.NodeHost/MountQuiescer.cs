using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.Pool;

namespace Loopvol.NodeHost;

/// <summary>
/// Quiesces volumes by freezing the file systems staged (mounted) on this node, in one fixed order; volumes not
/// mounted here need nothing. Every frozen file system is thawed when the handle is released, when freezing a
/// later one fails, and by a timer when the hold outlasts <paramref name="limit"/>, so a stuck caller cannot keep
/// pods' writes blocked. <see cref="ThawAll"/> runs at start, for a driver that died while holding a freeze.
/// </summary>
public sealed class MountQuiescer(Journal.Journal journal, TimeSpan limit, IFaultInjector faults) : IVolumeQuiescer
{
    public IDisposable Quiesce(IReadOnlyList<ObjectId> volumes)
    {
        var mounts = volumes.Select(v => journal.GetNodeVolume(v.ToString()))
            .Where(n => n is { StageState: NodeState.Mounted } && n.StageArguments?.Block != true)
            .Select(n => n!.StagingPath!)
            .Order(StringComparer.Ordinal)
            .ToList();
        var hold = new Hold();
        try
        {
            foreach (var mount in mounts)
            {
                Freezer.Freeze(mount);
                hold.Frozen.Add(mount);
                faults.Reached("quiesce.frozen");
            }
        }
        catch
        {
            hold.Dispose();
            throw;
        }
        hold.Timer = new Timer(_ => hold.Dispose(), null, limit, Timeout.InfiniteTimeSpan);
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

    private sealed class Hold : IDisposable
    {
        private int _released;

        public List<string> Frozen { get; } = [];

        public Timer? Timer { get; set; }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 1)
            {
                return;
            }
            Timer?.Dispose();
            foreach (var mount in Enumerable.Reverse(Frozen))
            {
                Freezer.Thaw(mount);
            }
        }
    }
}
