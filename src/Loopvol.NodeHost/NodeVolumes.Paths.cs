using Loopvol.Core.Errors;
using Loopvol.NodeHost.Mounts;
using Loopvol.NodeHost.Paths;
using Loopvol.NodeHost.Resilience;

namespace Loopvol.NodeHost;

/// <summary>How the node decides that a path, and the mount on it, are a volume's own.</summary>
public sealed partial class NodeVolumes
{
    /// <summary>The mount whose root the pinned path is (the top of any stack there), or null when it is none.</summary>
    internal static MountEntry? TopMount(PinnedPath path)
    {
        if (!path.Exists)
        {
            return null;
        }
        var stat = path.Stat();
        return stat.IsMountRoot ? MountTable.ById(stat.MountId) : null;
    }

    /// <summary>
    /// True when <paramref name="entry"/> is this volume's: its file system on the loop device (a staging mount
    /// or a bind of it), or, for a block volume, a bind of the device node itself.
    /// </summary>
    internal static bool IsOurs(MountEntry entry, string device, bool block) => block
        ? entry.Root == "/" + Path.GetFileName(device)
        : entry.Source == device && entry.Root == "/";

    /// <summary>Refuses a path where something that is not this volume's is mounted.</summary>
    private static void RefuseForeignMount(PinnedPath path, string? device, bool block, string field)
    {
        if (TopMount(path) is { } top && (device is null || !IsOurs(top, device, block)))
        {
            throw new PreconditionFailedException(
                $"{field} '{path.Path}' already has a mount of {top.Source} ({top.FsType}) that is not this volume's");
        }
    }

    /// <summary>
    /// Refuses a path that is, holds, or lies inside a path the journal records for another volume (its staging
    /// path or a target), or for this volume in another role: for a target (<paramref name="ownStaging"/> given),
    /// its staging path and its other targets. A mount made inside one of the volume's own mounts would pin it, so
    /// that mount could never be undone; the target itself, repeated, is the journal's to judge.
    /// </summary>
    private void RefuseOtherVolumes(string volumeId, string path, string field, string? ownStaging)
    {
        foreach (var node in journal.NodeVolumes())
        {
            var own = node.VolumeId == volumeId;
            var targets = node.Publications.Select(p => p.TargetPath);
            var paths = !own ? targets.Prepend(node.StagingPath)
                : ownStaging is null ? targets
                : targets.Where(t => t != path).Prepend(ownStaging);
            foreach (var recorded in paths.OfType<string>().Where(p => PathGuard.Overlaps(p, path)))
            {
                throw new PreconditionFailedException(own
                    ? $"{field} '{path}' overlaps this volume's own {(recorded == ownStaging ? "staging path" : "target path")} {recorded}"
                    : $"{field} '{path}' overlaps {recorded}, which volume {node.VolumeId} uses");
            }
        }
    }

    /// <summary>
    /// Opens a path the journal recorded, to undo what was done there. Gone (or its parent gone): null. Now running
    /// through a link or into the driver's directories: <see cref="PreconditionFailedException"/>, nothing touched.
    /// </summary>
    private PinnedPath? OpenRecorded(string path, string field)
    {
        try
        {
            var pinned = guard.Open(path, field, createParents: false);
            if (pinned.Exists)
            {
                return pinned;
            }
            pinned.Dispose();
            return null;
        }
        catch (NotFoundException)
        {
            return null;
        }
        catch (InvalidArgumentException e)
        {
            throw new PreconditionFailedException($"{e.Message}; it was changed after the volume was put there, so it is left alone");
        }
    }

    /// <summary>
    /// Unmounts every mount of this volume stacked at the pinned path. A mount that is not this volume's on top:
    /// <see cref="PreconditionFailedException"/>, and nothing below it is touched. A mount still busy is tried again
    /// (<see cref="KernelRetry.Unmount"/>), each time checking anew what is on top.
    /// </summary>
    private void UnmountOurs(PinnedPath path, string device, bool block, string field, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 16; i++) // Stacked mounts, one at a time; not a retry.
        {
            var unmounted = _kernel.Unmount.Execute(
                static (s, _) => UnmountTopIfOurs(s.path, s.device, s.block, s.field), (path, device, block, field), cancellationToken);
            if (!unmounted)
            {
                return;
            }
        }
    }

    /// <summary>Unmounts the top mount at the pinned path if it is this volume's; false when nothing is mounted there.</summary>
    private static bool UnmountTopIfOurs(PinnedPath path, string device, bool block, string field)
    {
        if (TopMount(path) is not { } top)
        {
            return false;
        }
        if (!IsOurs(top, device, block))
        {
            throw new PreconditionFailedException(
                $"{field} '{path.Path}' has a mount of {top.Source} ({top.FsType}) on top that is not this volume's; it is left alone");
        }
        Mounter.Unmount(path);
        return true;
    }
}
