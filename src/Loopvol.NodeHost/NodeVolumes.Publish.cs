using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.NodeHost.Paths;

namespace Loopvol.NodeHost;

/// <summary>Publish and unpublish (bind mounts of the staged volume), statistics and online expansion.</summary>
public sealed partial class NodeVolumes
{
    private const string TargetField = "target_path";

    /// <summary>
    /// Bind-mounts the staged volume (or its exposed device) at the target path, read-only when asked. The
    /// publication is recorded first, so a retry after a crash finds it and finishes the mount. Repeated with the
    /// same arguments: no change. The same target with other arguments: <see cref="AlreadyExistsException"/>.
    /// Not staged at that staging path: <see cref="PreconditionFailedException"/>. A target that is a link, lies
    /// in the driver's directories, is another volume's, or has something else mounted on it: refused, and
    /// nothing is recorded or mounted.
    /// </summary>
    public async Task PublishAsync(PublishRequest request, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(request.Volume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var id = request.Volume.ToString();
        ImageOf(request.Volume);
        var volume = journal.GetNodeVolume(id);
        if (volume is not { StageState: NodeState.Mounted, LoopDevice: { } device } || volume.StagingPath != request.StagingPath)
        {
            throw new PreconditionFailedException($"volume {id} is not staged at {request.StagingPath}");
        }
        if (volume.StageArguments?.Block != request.Block)
        {
            throw new AlreadyExistsException(
                $"volume {id} was staged as a {(request.Block ? "mount" : "block")} volume, not as asked");
        }
        RefuseOtherVolumes(id, request.TargetPath, TargetField, ownStaging: volume.StagingPath);
        using var target = guard.Open(request.TargetPath, TargetField, createParents: true);
        if (target.Exists && target.Stat() is var stat && (request.Block ? stat.IsDirectory && !stat.IsMountRoot : !stat.IsDirectory))
        {
            throw new InvalidArgumentException(
                $"{TargetField} '{request.TargetPath}' exists and is not {(request.Block ? "a file" : "a directory")}");
        }
        RefuseForeignMount(target, device, request.Block, TargetField);
        await journal.AddPublicationAsync(id, new Publication(request.TargetPath, request.ReadOnly, request.Block ? "block" : "mount"))
            .ConfigureAwait(false);
        faults.Reached("publish.recorded");
        if (TopMount(target) is not null)
        {
            return; // This volume's own mount: published by an attempt that died before it could say so.
        }
        using var source = OpenStaged(volume, request.Volume, device, request.Block);
        target.Create(directory: !request.Block);
        Mounter.BindMount(source, target, request.ReadOnly);
        faults.Reached("publish.mounted");
    }

    /// <summary>
    /// Unmounts this volume's mounts at the target path, removes the path if it is then an empty directory or
    /// file, and drops the publication. Unknown volume: <see cref="NotFoundException"/>. Not published there:
    /// success, and nothing is unmounted; only an empty directory that is no mount point and no other volume's
    /// path is removed. Something else mounted on top, or the path now running through a link:
    /// <see cref="PreconditionFailedException"/>, and nothing is touched. Repeated: no change.
    /// </summary>
    public async Task UnpublishAsync(ObjectId volume, string targetPath, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(volume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var id = volume.ToString();
        ImageOf(volume);
        var node = journal.GetNodeVolume(id);
        if (node?.Publications.Any(p => p.TargetPath == targetPath) != true)
        {
            RemoveEmptyLeftover(targetPath);
            return;
        }
        using (var target = OpenRecorded(targetPath, TargetField))
        {
            if (target is not null)
            {
                if (node.LoopDevice is { } device)
                {
                    UnmountOurs(target, device, node.StageArguments?.Block == true, TargetField, cancellationToken);
                }
                faults.Reached("unpublish.unmounted");
                target.RemoveIfEmpty();
            }
        }
        await journal.RemovePublicationAsync(id, targetPath).ConfigureAwait(false);
    }

    /// <summary>
    /// Usage of a volume at one of its paths (staging or target). Unknown volume, or a path the volume is not at:
    /// <see cref="NotFoundException"/>. The condition is abnormal when the mount is gone, the device detached, or
    /// the image missing.
    /// </summary>
    public VolumeStats Stats(ObjectId volume, string volumePath)
    {
        var id = volume.ToString();
        var image = ImageOf(volume);
        var node = journal.GetNodeVolume(id);
        var publication = node?.Publications.FirstOrDefault(p => p.TargetPath == volumePath);
        if (node is null || (publication is null && node.StagingPath != volumePath))
        {
            throw new NotFoundException($"volume {id} is not staged or published at {volumePath}");
        }
        var block = node.StageArguments?.Block == true;
        var problem = Problem(node, volumePath, block, image);
        if (block || problem is not null)
        {
            var size = File.Exists(image) ? new FileInfo(image).Length : (long?)null;
            return new VolumeStats(size, null, null, null, null, problem is not null, problem ?? "healthy");
        }
        using var pinned = OpenRecorded(volumePath, "volume_path");
        var fs = FileSystemStats.Of(pinned?.ProcPath ?? throw new NotFoundException($"{volumePath} is gone"));
        return new VolumeStats(fs.TotalBytes, fs.AvailableBytes, fs.TotalBytes - fs.FreeBytes, fs.TotalInodes,
            fs.FreeInodes, false, "healthy");
    }

    /// <summary>
    /// Makes the loop device take the grown image's size and grows the mounted file system online. Returns the
    /// device's new size. Not staged: <see cref="PreconditionFailedException"/>. Repeated: no change.
    /// </summary>
    public async Task<long> ExpandAsync(ObjectId volume, string volumePath, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(volume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var image = ImageOf(volume);
        var node = journal.GetNodeVolume(volume.ToString());
        if (node is not { StageState: NodeState.Mounted, LoopDevice: { } device })
        {
            throw new PreconditionFailedException($"volume {volume} is not staged on this node");
        }
        if (node.StagingPath != volumePath && node.Publications.All(p => p.TargetPath != volumePath))
        {
            throw new NotFoundException($"volume {volume} is not staged or published at {volumePath}");
        }
        LoopDevices.RefreshCapacity(device);
        if (node.StageArguments is { Block: false, FsType: var fsType })
        {
            await FileSystemTools.GrowAsync(device, node.StagingPath!, fsType, cancellationToken).ConfigureAwait(false);
        }
        return new FileInfo(image).Length;
    }

    private string? Problem(NodeVolume node, string volumePath, bool block, string image)
    {
        if (!File.Exists(image))
        {
            return "the volume's image is missing from the pool";
        }
        if (node.LoopDevice is null || LoopDevices.BackingFile(node.LoopDevice) != image)
        {
            return $"the loop device {node.LoopDevice} no longer holds the volume's image";
        }
        var at = block && volumePath == node.StagingPath
            ? BlockStagingFile(volumePath, ObjectId.Parse(node.VolumeId, ObjectKind.Volume, "volume_id"))
            : volumePath;
        try
        {
            using var pinned = OpenRecorded(at, "volume_path");
            return pinned is not null && TopMount(pinned) is { } top && IsOurs(top, node.LoopDevice, block)
                ? null
                : $"{volumePath} is no longer mounted";
        }
        catch (PreconditionFailedException e)
        {
            return e.Message;
        }
    }

    /// <summary>The staged mount (or exposed device file) to bind from, pinned and checked to be this volume's.</summary>
    private PinnedPath OpenStaged(NodeVolume volume, ObjectId id, string device, bool block)
    {
        var path = block ? BlockStagingFile(volume.StagingPath!, id) : volume.StagingPath!;
        var staged = OpenRecorded(path, StagingField);
        if (staged is not null && TopMount(staged) is { } top && IsOurs(top, device, block))
        {
            return staged;
        }
        staged?.Dispose();
        throw new PreconditionFailedException($"volume {id} is recorded as staged at {volume.StagingPath}, but it is not mounted there");
    }

    /// <summary>Removes an empty directory left at a target path nobody recorded; anything else stays.</summary>
    private void RemoveEmptyLeftover(string targetPath)
    {
        if (journal.NodeVolumes().Any(n => n.Publications.Any(p => PathGuard.Overlaps(p.TargetPath, targetPath)) ||
                                           (n.StagingPath is { } s && PathGuard.Overlaps(s, targetPath))))
        {
            return;
        }
        try
        {
            using var target = guard.Open(targetPath, TargetField, createParents: false);
            if (target.Exists && target.Stat() is { IsDirectory: true, IsMountRoot: false })
            {
                target.RemoveIfEmpty();
            }
        }
        catch (LoopvolException)
        {
            // A link, a protected directory, or a missing parent: not ours to clean, nothing is touched.
        }
    }
}
