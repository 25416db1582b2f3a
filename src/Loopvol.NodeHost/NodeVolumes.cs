using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.FileSystems;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.NodeHost.Paths;
using Loopvol.NodeHost.Resilience;
using Loopvol.Pool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.NodeHost;

/// <summary>
/// Stage, publish, unpublish and unstage of volumes on this node (IDEAS.md section 3). The journal is written
/// ahead of the kernel where a retry must see the intent (a publication row before its bind mount), and after it
/// where the kernel state is the proof (Attached after the device exists). Every step checks what the kernel
/// already shows, so a retry after a crash at any point finishes the call without stacking mounts or leaking
/// devices. One operation per volume at a time; a second one meanwhile is busy (ABORTED).
/// Paths from a request are hostile: they are walked without following links (<see cref="PinnedPath"/>), refused
/// inside the driver's own directories (<see cref="PathGuard"/>) or where another volume is recorded, and the node
/// only ever unmounts or removes what the journal recorded for that volume and the kernel shows is that volume's.
/// Transient kernel contention (a loop device taken while it is being attached, an unmount refused while a process
/// is still leaving) is retried a bounded number of times (<see cref="KernelRetry"/>), logged to <paramref name="logger"/>.
/// </summary>
public sealed partial class NodeVolumes(Journal.Journal journal, PoolLayout layout, IFaultInjector faults, PathGuard guard,
    ILogger? logger = null)
{
    private const string StagingField = "staging_target_path";
    private readonly KernelRetry _kernel = new(logger ?? NullLogger.Instance);

    /// <summary>
    /// Attaches the image to a loop device and, for a mount volume, formats it if blank and mounts it at the
    /// staging path; for a block volume, exposes the device there. Repeated with the same arguments: no change.
    /// Staged elsewhere or with other arguments: <see cref="AlreadyExistsException"/>. A device holding another file
    /// system than asked for: <see cref="PreconditionFailedException"/>, never a reformat. A staging path that is
    /// a link, lies in the driver's directories, or is another volume's: refused before anything happens.
    /// </summary>
    public async Task StageAsync(StageRequest request, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(request.Volume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var id = request.Volume.ToString();
        var record = CreatedVolume(request.Volume);
        var image = layout.ImagePath(record.BackendName);
        var current = journal.GetNodeVolume(id);
        if (current is { StageState: NodeState.Mounted } &&
            (current.StagingPath != request.StagingPath || !Equals(current.StageArguments, request.Arguments)))
        {
            throw new AlreadyExistsException(
                $"volume {id} is already staged at {current.StagingPath} with {current.StageArguments}");
        }
        RefuseOtherVolumes(id, request.StagingPath, StagingField, ownStaging: null);
        using var staging = guard.Open(request.StagingPath, StagingField, createParents: true);
        staging.Create(directory: true);
        if (!staging.Stat().IsDirectory)
        {
            throw new InvalidArgumentException($"{StagingField} '{request.StagingPath}' is not a directory");
        }
        var known = current?.LoopDevice is { } recorded && LoopDevices.BackingFile(recorded) == image ? recorded : null;
        if (current is { StageState: NodeState.Mounted } && known is not null && IsStaged(staging, known, request))
        {
            return;
        }
        var device = known ?? LoopDevices.Holding(image); // A device holding this volume's image is this volume's.
        if (!request.Block)
        {
            RefuseForeignMount(staging, device, block: false, StagingField);
        }
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null;
        if (device is null)
        {
            // The first time data can reach the image: an empty volume's goes to disk first (docs/durability.md).
            await EmptyImages.EnsureDurableAsync(journal, layout, record, faults, logger ?? NullLogger.Instance)
                .ConfigureAwait(false);
            (device, handle) = await _kernel.LoopAttach.ExecuteAsync(
                _ => ValueTask.FromResult(LoopDevices.Attach(image, readOnly: false, autoclear: !request.Block, directIo: true, faults)),
                cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await journal.SetStageAsync(id, NodeState.Attached, request.StagingPath, device, request.Arguments)
                .ConfigureAwait(false);
            faults.Reached("stage.attached");
            if (request.Block)
            {
                Expose(device, staging, request.Volume);
            }
            else
            {
                await MountAsync(device, staging, request, cancellationToken).ConfigureAwait(false);
            }
            faults.Reached("stage.staged");
            await journal.SetStageAsync(id, NodeState.Mounted, request.StagingPath, device, request.Arguments)
                .ConfigureAwait(false);
        }
        catch
        {
            if (handle is not null)
            {
                // This call attached the device: undo it. A mount volume's device autoclears when the handle
                // closes below; a block volume's has no autoclear and is detached here.
                if (request.Block)
                {
                    UnexposeBlock(staging, request.Volume, device, CancellationToken.None);
                    LoopDevices.Detach(device);
                }
                if (journal.GetNodeVolume(id) is { StageState: NodeState.Attached })
                {
                    await journal.SetStageAsync(id, NodeState.Init).ConfigureAwait(false);
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
    /// Unmounts (or unexposes) the staging path and detaches the device. Unknown volume:
    /// <see cref="NotFoundException"/>. Not staged at that path: success, and nothing is touched (but a block
    /// volume's own empty device file there, left by a reboot, is removed). Still published:
    /// <see cref="PreconditionFailedException"/>. Something else mounted on top of the staging path, or the
    /// path now running through a link: <see cref="PreconditionFailedException"/>, nothing unmounted. Repeated: no change.
    /// </summary>
    public async Task UnstageAsync(ObjectId volume, string stagingPath, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(volume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var id = volume.ToString();
        var image = ImageOf(volume);
        var current = journal.GetNodeVolume(id);
        if (current is null || current.StagingPath != stagingPath)
        {
            RemoveLeftoverBlockFile(volume, stagingPath);
            return;
        }
        if (current.Publications.Count > 0)
        {
            throw new PreconditionFailedException(
                $"volume {id} is still published at {string.Join(", ", current.Publications.Select(p => p.TargetPath))}");
        }
        var block = current.StageArguments?.Block == true;
        using (var staging = OpenRecorded(stagingPath, StagingField))
        {
            if (staging is not null && current.LoopDevice is { } device)
            {
                if (block)
                {
                    UnexposeBlock(staging, volume, device, cancellationToken);
                }
                else
                {
                    UnmountOurs(staging, device, block: false, StagingField, cancellationToken);
                }
            }
        }
        faults.Reached("unstage.unmounted");
        await journal.SetStageAsync(id, NodeState.Attached, current.StagingPath, current.LoopDevice, current.StageArguments)
            .ConfigureAwait(false);
        DetachIfOurs(current.LoopDevice, image);
        faults.Reached("unstage.detached");
        await journal.SetStageAsync(id, NodeState.Init).ConfigureAwait(false);
        if (journal.ProvisioningOf(volume) == Provisioning.ThinPendingRelease && LoopBackingFiles.Holding(image).Count == 0)
        {
            // Made thin while attached: what its thick reservation kept and nothing wrote goes now, while no write can
            // land. The unstage is done whatever happens here: a failure stays pending for the next start.
            try
            {
                ImageStore.ReleaseUnwrittenAt(image);
                await journal.SetProvisioningAsync(volume, Provisioning.Thin).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LoopvolException or IOException or UnauthorizedAccessException)
            {
                NodeLog.ReleaseDeferred(logger ?? NullLogger.Instance, volume.ToString(), e.Message);
            }
        }
    }

    public string ImageOf(ObjectId volume) => layout.ImagePath(CreatedVolume(volume).BackendName);

    private Reservation CreatedVolume(ObjectId volume) =>
        journal.Get(volume) is { State: ReservationState.Created } record
            ? record
            : throw new NotFoundException($"volume_id {volume} does not exist");

    /// <summary>Where a block volume's device is exposed inside its staging directory.</summary>
    public static string BlockStagingFile(string stagingPath, ObjectId volume) => Path.Combine(stagingPath, volume.ToString());

    private async Task MountAsync(string device, PinnedPath staging, StageRequest request, CancellationToken cancellationToken)
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
        if (TopMount(staging) is { } top && IsOurs(top, device, block: false))
        {
            return; // Mounted by an attempt that died before it could say so.
        }
        var (flags, data) = MountOptions.Split(request.MountFlags);
        var errno = Mounter.TryMount(device, staging, request.FsType, flags, data);
        if (errno == Core.Native.Errno.EINVAL && request.MountFlags.Count > 0)
        {
            throw new InvalidArgumentException(
                $"volume_capability.mount.mount_flags [{string.Join(", ", request.MountFlags)}]: the kernel refused " +
                $"them for {request.FsType}");
        }
        if (errno != 0)
        {
            throw Core.Native.Errno.Failure("mount", $"{device} on {request.StagingPath}", errno);
        }
        staging.Reopen();
        if (request.MountGroup is { } group && int.TryParse(group, out var gid))
        {
            MountGroup.Apply(staging, gid);
        }
    }

    /// <summary>Binds the device on an empty file named after the volume inside the pinned staging directory.</summary>
    private static void Expose(string device, PinnedPath staging, ObjectId volume)
    {
        using var file = PinnedPath.Open(BlockStagingFile(staging.Path, volume), StagingField, createParents: false);
        file.Create(directory: false);
        if (TopMount(file) is { } top)
        {
            if (IsOurs(top, device, block: true))
            {
                return;
            }
            throw new PreconditionFailedException($"{StagingField} '{file.Path}' already has a mount of {top.Source}; not this volume's");
        }
        if (!file.Stat().IsRegularFile)
        {
            throw new PreconditionFailedException($"{StagingField} '{file.Path}' exists and is not a plain file");
        }
        Mounter.BindMount(device, device, file, readOnly: false);
    }

    /// <summary>Unmounts this volume's device from its file in the staging directory and removes the file.</summary>
    private void UnexposeBlock(PinnedPath staging, ObjectId volume, string device, CancellationToken cancellationToken)
    {
        using var file = OpenRecorded(BlockStagingFile(staging.Path, volume), StagingField);
        if (file is null)
        {
            return;
        }
        UnmountOurs(file, device, block: true, StagingField, cancellationToken);
        file.RemoveIfEmpty();
    }

    /// <summary>After a reboot the record is gone but the empty file named after the volume may still be there.</summary>
    private void RemoveLeftoverBlockFile(ObjectId volume, string stagingPath, bool ignoreRecord = false)
    {
        if (journal.NodeVolumes().Any(n => n.StagingPath is { } s && PathGuard.Overlaps(s, stagingPath) &&
                                           !(ignoreRecord && n.VolumeId == volume.ToString())))
        {
            return; // Another volume's staging path: never touched.
        }
        try
        {
            using var file = guard.Open(BlockStagingFile(stagingPath, volume), StagingField, createParents: false);
            if (file.Exists && file.Stat() is { IsRegularFile: true, IsMountRoot: false })
            {
                file.RemoveIfEmpty();
            }
        }
        catch (LoopvolException)
        {
            // Not ours to clean: a link, a protected directory, or a missing parent. Nothing is touched.
        }
    }

    private bool IsStaged(PinnedPath staging, string device, StageRequest request)
    {
        if (!request.Block)
        {
            return TopMount(staging) is { } top && IsOurs(top, device, block: false);
        }
        using var file = OpenRecorded(BlockStagingFile(staging.Path, request.Volume), StagingField);
        return file is not null && TopMount(file) is { } exposed && IsOurs(exposed, device, block: true);
    }

    private static void DetachIfOurs(string? device, string image)
    {
        if (device is not null && LoopDevices.BackingFile(device) is { } backing && backing == image)
        {
            LoopDevices.Detach(device);
        }
    }
}
