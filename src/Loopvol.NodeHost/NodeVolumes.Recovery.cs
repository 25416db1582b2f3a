using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.Pool;

namespace Loopvol.NodeHost;

/// <summary>One repair or report of the start-up reconciliation.</summary>
public sealed record NodeRepair(string Kind, string Subject, string What, bool Repaired);

/// <summary>At start, before serving: the journal's node records are brought in line with what the kernel shows.</summary>
public sealed partial class NodeVolumes
{
    /// <summary>
    /// <list type="bullet">
    /// <item>Staged and still mounted: kept; publications whose bind mount is gone are dropped; pods keep running.</item>
    /// <item>Staged but no longer mounted (a reboot, or an unmount behind our back): back to Init, so the next
    /// stage works; a device left holding the image with nothing mounted from it is detached.</item>
    /// <item>Attached only (the driver died mid-stage; autoclear already freed the device): back to Init.</item>
    /// <item>A loop device holding one of this pool's images that no record explains: detached when nothing is
    /// mounted from it, else reported and left alone.</item>
    /// </list>
    /// Never unmounts anything. Returns every repair and report, for the log.
    /// </summary>
    public async Task<IReadOnlyList<NodeRepair>> ReconcileAsync()
    {
        var repairs = new List<NodeRepair>();
        var table = MountTable.Read();
        var explained = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in journal.NodeVolumes())
        {
            var volume = ObjectId.Parse(node.VolumeId, ObjectKind.Volume, "volume_id");
            var block = node.StageArguments?.Block == true;
            var stagedAt = block && node.StagingPath is { } s ? BlockStagingFile(s, volume) : node.StagingPath;
            var mounted = node.StageState == NodeState.Mounted && stagedAt is not null && MountTable.At(stagedAt, table) is not null;
            if (node.LoopDevice is { } held)
            {
                explained.Add(held);
            }
            if (mounted)
            {
                foreach (var publication in node.Publications.Where(p => MountTable.At(p.TargetPath, table) is null))
                {
                    await journal.RemovePublicationAsync(node.VolumeId, publication.TargetPath).ConfigureAwait(false);
                    repairs.Add(new NodeRepair("publication_dropped", node.VolumeId, $"publication at {publication.TargetPath} was gone; dropped", true));
                }
                continue;
            }
            foreach (var publication in node.Publications)
            {
                await journal.RemovePublicationAsync(node.VolumeId, publication.TargetPath).ConfigureAwait(false);
            }
            if (node.LoopDevice is { } device && UsedBy(device, table) is null &&
                LoopDevices.BackingFile(device) is { } backing && PoolLayout.BackendNameOf(Path.GetFileName(backing)) == node.VolumeId)
            {
                LoopDevices.Detach(device);
            }
            if (block && node.StagingPath is { } stagingPath)
            {
                RemoveLeftoverBlockFile(volume, stagingPath, ignoreRecord: true);
            }
            if (node.StageState == NodeState.Mounted)
            {
                await journal.SetStageAsync(node.VolumeId, NodeState.Attached, node.StagingPath, node.LoopDevice,
                    node.StageArguments).ConfigureAwait(false);
            }
            await journal.SetStageAsync(node.VolumeId, NodeState.Init).ConfigureAwait(false);
            repairs.Add(new NodeRepair("stage_reset", node.VolumeId, $"was {node.State} but nothing is mounted any more; back to Init", true));
        }
        foreach (var (device, backing) in LoopBackingFiles.Read())
        {
            if (explained.Contains(device) || Path.GetDirectoryName(backing) != layout.Directory ||
                PoolLayout.BackendNameOf(Path.GetFileName(backing)) is null)
            {
                continue;
            }
            if (UsedBy(device, table) is { } mountPoint)
            {
                repairs.Add(new NodeRepair("loop_device_unexplained", device, $"holds {backing} and is mounted at {mountPoint}, which no record explains; left alone", false));
            }
            else
            {
                LoopDevices.Detach(device);
                repairs.Add(new NodeRepair("loop_device_detached", device, $"held {backing} with nothing mounted and no record; detached", true));
            }
        }
        return repairs;
    }

    /// <summary>Where a device is mounted: as a file system, or as a bind mount of its device node (block volumes).</summary>
    private static string? UsedBy(string device, IReadOnlyList<MountEntry> table) =>
        table.FirstOrDefault(e => e.Source == device ||
                                  (e.FsType == "devtmpfs" && e.Root == "/" + Path.GetFileName(device)))?.MountPoint;
}
