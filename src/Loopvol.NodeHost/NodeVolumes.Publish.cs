using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;

namespace Loopvol.NodeHost;

/// <summary>Publish and unpublish (bind mounts of the staged volume), statistics and online expansion.</summary>
public sealed partial class NodeVolumes
{
    /// <summary>
    /// Bind-mounts the staged volume (or its exposed device) at the target path, read-only when asked. The
    /// publication is recorded first, so a retry after a crash finds it and finishes the mount. Repeated with the
    /// same arguments: no change. The same target with other arguments: <see cref="AlreadyExistsException"/>.
    /// Not staged at that staging path: <see cref="PreconditionFailedException"/>.
    /// </summary>
    public void Publish(PublishRequest request)
    {
        using var _ = journal.Locks.Acquire(request.Volume.ToString());
        var id = request.Volume.ToString();
        ImageOf(request.Volume);
        var volume = journal.GetNodeVolume(id);
        if (volume is not { StageState: NodeState.Mounted } || volume.StagingPath != request.StagingPath)
        {
            throw new PreconditionFailedException($"volume {id} is not staged at {request.StagingPath}");
        }
        if ((volume.StageArguments == "block") != request.Block)
        {
            throw new AlreadyExistsException(
                $"volume {id} was staged as a {(request.Block ? "mount" : "block")} volume, not as asked");
        }
        journal.AddPublication(id, new Publication(request.TargetPath, request.ReadOnly, request.Block ? "block" : "mount"));
        faults.Reached("publish.recorded");
        if (MountTable.At(request.TargetPath) is not null)
        {
            return;
        }
        var source = request.Block ? BlockStagingFile(request.StagingPath, request.Volume) : request.StagingPath;
        if (request.Block)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(request.TargetPath)!);
            if (!File.Exists(request.TargetPath))
            {
                File.WriteAllBytes(request.TargetPath, []);
            }
        }
        else
        {
            Directory.CreateDirectory(request.TargetPath);
        }
        Mounter.BindMount(source, request.TargetPath, request.ReadOnly);
        faults.Reached("publish.mounted");
    }

    /// <summary>
    /// Unmounts the target path, removes it, and drops the publication. Not published there: success (the target
    /// is still removed if it is left over). Repeated: no change.
    /// </summary>
    public void Unpublish(ObjectId volume, string targetPath)
    {
        using var _ = journal.Locks.Acquire(volume.ToString());
        UnmountAll(targetPath);
        faults.Reached("unpublish.unmounted");
        if (Directory.Exists(targetPath))
        {
            Directory.Delete(targetPath);
        }
        else if (File.Exists(targetPath))
        {
            File.Delete(targetPath);
        }
        journal.RemovePublication(volume.ToString(), targetPath);
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
        var block = node.StageArguments == "block";
        var problem = Problem(node, volumePath, block, image);
        if (block || problem is not null)
        {
            var size = File.Exists(image) ? new FileInfo(image).Length : (long?)null;
            return new VolumeStats(size, null, null, null, null, problem is not null, problem ?? "healthy");
        }
        var fs = FileSystemStats.Of(volumePath);
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
        if (node.StageArguments != "block")
        {
            var fsType = node.StageArguments!.Split(';')[1];
            await FileSystemTools.GrowAsync(device, node.StagingPath!, fsType, cancellationToken).ConfigureAwait(false);
        }
        return new FileInfo(image).Length;
    }

    private static string? Problem(NodeVolume node, string volumePath, bool block, string image)
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
        return MountTable.At(at) is null ? $"{volumePath} is no longer mounted" : null;
    }
}
