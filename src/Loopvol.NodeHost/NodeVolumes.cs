using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.Pool;

namespace Loopvol.NodeHost;

/// <summary>
/// Stage, publish, unpublish and unstage of volumes on this node (IDEAS.md section 3). The journal is written
/// ahead of the kernel where a retry must see the intent (a publication row before its bind mount), and after it
/// where the kernel state is the proof (Attached after the device exists). Every step checks what the kernel
/// already shows, so a retry after a crash at any point finishes the call without stacking mounts or leaking
/// devices. One operation per volume at a time; a second one meanwhile is busy (ABORTED).
/// </summary>
public sealed partial class NodeVolumes(Journal.Journal journal, PoolLayout layout, IFaultInjector faults)
{
    /// <summary>
    /// Attaches the image to a loop device and, for a mount volume, formats it if blank and mounts it at the
    /// staging path; for a block volume, exposes the device there. Repeated with the same arguments: no change.
    /// Staged elsewhere or with other arguments: <see cref="AlreadyExistsException"/>. A device holding another file
    /// system than asked for: <see cref="PreconditionFailedException"/>, never a reformat.
    /// </summary>
    public async Task StageAsync(StageRequest request, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(request.Volume.ToString());
        var id = request.Volume.ToString();
        var image = ImageOf(request.Volume);
        var current = journal.GetNodeVolume(id);
        if (current is { StageState: NodeState.Mounted })
        {
            if (current.StagingPath != request.StagingPath || current.StageArguments != request.Canonical)
            {
                throw new AlreadyExistsException(
                    $"volume {id} is already staged at {current.StagingPath} with {current.StageArguments}");
            }
            if (IsStaged(current, request.Block))
            {
                return;
            }
        }
        var device = LoopDevices.Holding(image);
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null;
        if (device is null)
        {
            (device, handle) = LoopDevices.Attach(image, readOnly: false, autoclear: !request.Block, directIo: true);
        }
        try
        {
            journal.SetStage(id, NodeState.Attached, request.StagingPath, device, request.Canonical);
            faults.Reached("stage.attached");
            if (request.Block)
            {
                Expose(device, BlockStagingFile(request.StagingPath, request.Volume));
            }
            else
            {
                await MountAsync(device, request, cancellationToken).ConfigureAwait(false);
            }
            faults.Reached("stage.staged");
            journal.SetStage(id, NodeState.Mounted, request.StagingPath, device, request.Canonical);
        }
        catch
        {
            if (handle is not null)
            {
                // This call attached the device: undo it. A mount volume's device autoclears when the handle
                // closes below; a block volume's has no autoclear and is detached here.
                if (request.Block)
                {
                    UnmountAll(BlockStagingFile(request.StagingPath, request.Volume));
                    LoopDevices.Detach(device);
                }
                if (journal.GetNodeVolume(id) is { StageState: NodeState.Attached })
                {
                    journal.SetStage(id, NodeState.Init);
                }
            }
            throw;
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <summary>
    /// Unmounts (or unexposes) the staging path and detaches the device. Not staged there: success. Still
    /// published: <see cref="PreconditionFailedException"/>. Repeated: no change.
    /// </summary>
    public void Unstage(ObjectId volume, string stagingPath)
    {
        using var _ = journal.Locks.Acquire(volume.ToString());
        var id = volume.ToString();
        var current = journal.GetNodeVolume(id);
        if (current is null || current.StagingPath != stagingPath)
        {
            return;
        }
        if (current.Publications.Count > 0)
        {
            throw new PreconditionFailedException(
                $"volume {id} is still published at {string.Join(", ", current.Publications.Select(p => p.TargetPath))}");
        }
        var block = current.StageArguments == "block";
        var staged = block ? BlockStagingFile(stagingPath, volume) : stagingPath;
        UnmountAll(staged);
        if (block)
        {
            File.Delete(staged);
        }
        faults.Reached("unstage.unmounted");
        journal.SetStage(id, NodeState.Attached, current.StagingPath, current.LoopDevice, current.StageArguments);
        DetachIfOurs(current.LoopDevice, ImageOf(volume));
        faults.Reached("unstage.detached");
        journal.SetStage(id, NodeState.Init);
    }

    public string ImageOf(ObjectId volume) =>
        journal.Get(volume) is { State: ReservationState.Created } record
            ? layout.ImagePath(record.BackendName)
            : throw new NotFoundException($"volume {volume} does not exist");

    /// <summary>Where a block volume's device is exposed inside its staging directory.</summary>
    public static string BlockStagingFile(string stagingPath, ObjectId volume) => Path.Combine(stagingPath, volume.ToString());

    private async Task MountAsync(string device, StageRequest request, CancellationToken cancellationToken)
    {
        var found = FileSystemProbe.Detect(device);
        if (found == FileSystemProbe.Blank)
        {
            await FileSystemTools.FormatAsync(device, request.FsType, cancellationToken).ConfigureAwait(false);
            faults.Reached("stage.formatted");
        }
        else if (found != request.FsType)
        {
            throw new PreconditionFailedException(found == FileSystemProbe.Unknown
                ? $"volume {request.Volume} holds data that is not a file system; it is not formatted"
                : $"volume {request.Volume} holds {found}, not {request.FsType}; it is never reformatted");
        }
        Directory.CreateDirectory(request.StagingPath);
        if (MountTable.At(request.StagingPath) is { Source: var source } && source == device)
        {
            return; // Mounted by an attempt that died before it could say so.
        }
        var (flags, data) = MountOptions(request.MountFlags);
        Mounter.Mount(device, request.StagingPath, request.FsType, flags, data);
        if (request.MountGroup is { } group && int.TryParse(group, out var gid))
        {
            File.SetUnixFileMode(request.StagingPath, File.GetUnixFileMode(request.StagingPath) |
                                                      UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
                                                      UnixFileMode.GroupExecute | UnixFileMode.SetGroup);
            Chown(request.StagingPath, gid);
        }
    }

    private static void Expose(string device, string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        if (!File.Exists(file))
        {
            File.WriteAllBytes(file, []);
        }
        if (MountTable.At(file) is null)
        {
            Mounter.BindMount(device, file, readOnly: false);
        }
    }

    private static bool IsStaged(NodeVolume volume, bool block)
    {
        var at = block ? BlockStagingFile(volume.StagingPath!, ObjectId.Parse(volume.VolumeId, ObjectKind.Volume, "volume_id"))
            : volume.StagingPath!;
        var entry = MountTable.At(at);
        return entry is not null && (block || entry.Source == volume.LoopDevice);
    }

    private static void DetachIfOurs(string? device, string image)
    {
        if (device is not null && LoopDevices.BackingFile(device) is { } backing && backing == image)
        {
            LoopDevices.Detach(device);
        }
    }

    /// <summary>Unmounts every mount stacked at <paramref name="target"/>.</summary>
    private static void UnmountAll(string target)
    {
        for (var i = 0; i < 16 && MountTable.At(target) is not null; i++)
        {
            Mounter.Unmount(target);
        }
    }

    private static (ulong Flags, string Data) MountOptions(IReadOnlyList<string> mountFlags)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var flag in mountFlags)
        {
            if (Mounter.Flags.TryGetValue(flag, out var bit))
            {
                flags |= bit;
            }
            else
            {
                data.Add(flag);
            }
        }
        return (flags, string.Join(',', data));
    }

    private static void Chown(string path, int gid)
    {
        if (ChownNative(path, -1, gid) != 0)
        {
            throw Core.Native.Errno.Failure("chown", path, Core.Native.Errno.Last);
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "chown", SetLastError = true,
        StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int ChownNative(string path, int uid, int gid);
}
