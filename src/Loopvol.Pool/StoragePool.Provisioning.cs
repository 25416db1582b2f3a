using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>
/// Thick and thin volumes (the mutable parameter <c>provisioning</c>, docs/provisioning.md). A thick volume has
/// every block reserved on the pool's file system, so its writes never meet a full pool; a thin one takes blocks as it
/// is written. The journal records the choice; the image holds the reservation.
/// </summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// Makes a volume thick or thin; null changes nothing. Returns what it is now. Thick: the image's blocks are
    /// reserved first (no room: <see cref="ResourceExhaustedException"/>, still thin, and whatever part was reserved
    /// is given back like a thin volume's; so is a part reserved before a crash), then the journal says so.
    /// Thin: the journal says so first, then what was reserved and never written is given back, at once when the
    /// volume is not attached on this node, else when it is detached (at unstage, or at the next start).
    /// Unknown volume: <see cref="NotFoundException"/>. Repeated: no change. Fault point <c>modify-volume.reserved</c>.
    /// </summary>
    public async Task<Provisioning> ModifyVolumeAsync(ObjectId id, Provisioning? asked, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var record = CreatedVolume(id);
        var current = journal.ProvisioningOf(id) ?? Provisioning.Thin;
        switch (asked)
        {
            case null:
                return current == Provisioning.Thick ? Provisioning.Thick : Provisioning.Thin;
            case Provisioning.Thick when current == Provisioning.Thick:
                // Already thick (a repeat, or CreateVolume's parameters on a volume an earlier call made): the
                // reservation is topped up where snapshots share blocks, and no room for that is only logged.
                await KeepThickAsync(record, cancellationToken).ConfigureAwait(false);
                return Provisioning.Thick;
            case Provisioning.Thick:
                // Until the journal says thick, a reservation cut short (no room, a crash) is given back as a thin
                // volume's is: now, at detach, or at the next start.
                await journal.SetProvisioningAsync(id, Provisioning.ThinPendingRelease).ConfigureAwait(false);
                try
                {
                    await ReserveAsync(record, cancellationToken).ConfigureAwait(false);
                    Faults.Reached("modify-volume.reserved");
                }
                catch
                {
                    await ReleaseIfDetachedAsync(record).ConfigureAwait(false);
                    throw;
                }
                await journal.SetProvisioningAsync(id, Provisioning.Thick).ConfigureAwait(false);
                return Provisioning.Thick;
            default:
                if (current != Provisioning.Thin)
                {
                    await journal.SetProvisioningAsync(id, Provisioning.ThinPendingRelease).ConfigureAwait(false);
                    await ReleaseIfDetachedAsync(record).ConfigureAwait(false);
                }
                return Provisioning.Thin;
        }
    }

    /// <summary>
    /// Gives back the reservations of volumes made thin while attached and not attached any more (a crash between
    /// their detach and the release); at start, before the driver serves. Repeated: no change.
    /// </summary>
    public async Task ReleasePendingAsync()
    {
        foreach (var id in journal.PendingReleases())
        {
            using var _ = journal.Locks.Acquire(id.ToString());
            if (journal.Get(id) is { State: ReservationState.Created } record)
            {
                await ReleaseIfDetachedAsync(record).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Reserves a thick volume's blocks again after something shared them (a snapshot's reflink) or grew the image.
    /// Thin volumes: nothing. Called with the volume's lock held. No room: logged, and the volume stays recorded
    /// thick with the blocks it could not reserve shared; the next modify to thick or growth tries again.
    /// </summary>
    private async Task KeepThickAsync(Reservation volume, CancellationToken cancellationToken)
    {
        if (journal.ProvisioningOf(volume.Id) != Provisioning.Thick)
        {
            return;
        }
        try
        {
            await Blocking.RunAsync(() => images.Reserve(volume.BackendName), cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceExhaustedException e)
        {
            PoolLog.ThickNotKept(options.Logger, volume.Id.ToString(), e.Message);
        }
    }

    /// <summary>
    /// Reserves a volume's blocks, once the free space (less the reserve) is known to hold what the image does not
    /// hold yet: more is <see cref="ResourceExhaustedException"/>, and nothing is reserved.
    /// </summary>
    private async Task ReserveAsync(Reservation record, CancellationToken cancellationToken)
    {
        record = await EnsureDurableAsync(record).ConfigureAwait(false);
        CheckRoomToReserve(record, record.SizeBytes ?? 0);
        await Blocking.RunAsync(() => images.Reserve(record.BackendName), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The free space (less the reserve) must hold what reserving <paramref name="sizeBytes"/> of the volume's image
    /// adds to the blocks it has; else <see cref="ResourceExhaustedException"/>. Sharing with snapshots is not
    /// counted: the reservation's own call fails when it meets a full pool.
    /// </summary>
    private void CheckRoomToReserve(Reservation record, long sizeBytes)
    {
        var needed = Math.Max(0, sizeBytes - images.AllocatedBytes(record.BackendName));
        var free = FileSystemStats.Of(images.Layout.Directory).AvailableBytes - Math.Max(options.ReserveBytes, options.FullBelowBytes);
        if (needed > free)
        {
            throw new ResourceExhaustedException(
                $"the pool cannot reserve {sizeBytes} bytes for thick volume {record.Id}: {needed} more bytes are " +
                $"needed and {Math.Max(0, free)} are free (less the reserve)");
        }
    }

    /// <summary>A volume thin but still holding a reservation: released now unless it is attached or staged on this node.</summary>
    private async Task ReleaseIfDetachedAsync(Reservation record)
    {
        var path = images.Layout.ImagePath(record.BackendName);
        if (LoopBackingFiles.Holding(path).Count > 0 || journal.GetNodeVolume(record.Id.ToString()) is not null)
        {
            return; // Released at detach: a write meanwhile could land in a range about to be punched.
        }
        await Blocking.RunAsync(() => images.ReleaseUnwritten(record.BackendName), CancellationToken.None).ConfigureAwait(false);
        await journal.SetProvisioningAsync(record.Id, Provisioning.Thin).ConfigureAwait(false);
    }
}
