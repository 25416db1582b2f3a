using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool.Internal;

namespace Loopvol.Pool;

/// <summary>
/// The pool's fsync budget (docs/durability.md): an empty volume is created with no fsync of its image or the
/// directory, and made durable only when something may put data in it; a delete answers once its record is marked
/// and its image unlinked, and the records go later, after one directory sync for many deletes.
/// </summary>
public sealed partial class StoragePool
{
    private readonly DeleteSweeper _sweeper = new(journal, images, options.Faults, options.Logger);

    /// <summary>
    /// Waits for the records of the deletes answered so far to be removed (at most one failed attempt more), for
    /// shutdown and tests. What cannot be removed stays deleting, and the next start finishes it.
    /// </summary>
    public Task DrainDeletesAsync() => _sweeper.DrainAsync();

    /// <summary>
    /// Makes the image of a fresh reservation of an empty volume and records it created, in the order that needs
    /// neither the image nor the directory synced: the image is written under .incoming; the volume is recorded
    /// created with an image not yet durable (the write that must be durable before the answer); only then is the
    /// image renamed into place. A crash before the record leaves an .incoming file (removed at start) and a
    /// reservation without an image (undone by the retry or at start); a crash after it may lose the rename, and
    /// start-up makes the image again (<see cref="EmptyImages.Restore"/>). If the image cannot be written, the
    /// reservation is given up as in <see cref="BuildAsync"/>. Fault points: <c>create-volume.reserved</c>,
    /// <c>create-volume.image-created</c> (written, not recorded) and <c>image.create.renamed</c>.
    /// </summary>
    private async Task<Reservation> BuildEmptyAsync(Reservation reservation, long sizeBytes)
    {
        Faults.Reached("create-volume.reserved");
        // Until this call answers only a listing can name the ID; its lock keeps every use of the volume out while
        // the record says created and the image is not in place yet.
        using var _ = journal.Locks.Acquire(reservation.Id.ToString());
        IncomingImage image;
        try
        {
            image = images.PrepareEmpty(reservation.BackendName, sizeBytes, Portable(reservation));
        }
        catch (Exception e) when (e is not BusyException)
        {
            await AbandonAsync(reservation).ConfigureAwait(false);
            throw;
        }
        using (image)
        {
            Faults.Reached("create-volume.image-created");
            var created = await journal.MarkCreatedAsync(reservation.Id, sizeBytes, imageDurable: false).ConfigureAwait(false);
            image.Place();
            Faults.Reached("image.create.renamed");
            return created;
        }
    }

    /// <summary>
    /// Before anything may put data in a volume's image or copy it: see <see cref="EmptyImages.EnsureDurableAsync"/>.
    /// Called with the volume's lock held.
    /// </summary>
    private Task<Reservation> EnsureDurableAsync(Reservation record) =>
        EmptyImages.EnsureDurableAsync(journal, images.Layout, record, Faults, options.Logger);

    /// <summary>
    /// The records of <paramref name="ids"/>, marked deleting and their images unlinked, go once the unlinks are on
    /// disk: after the answer, by the sweeper.
    /// </summary>
    private void Forget(params ObjectId[] ids) => _sweeper.Add(ids);

    /// <summary>
    /// The same before returning, for a caller that must leave nothing behind (a failed group snapshot undone, a
    /// half-made one discarded at start): one directory sync, then one journal write. Fault point <c>forget.synced</c>.
    /// </summary>
    private async Task ForgetNowAsync(IReadOnlyCollection<ObjectId> ids)
    {
        images.SyncDirectory();
        Faults.Reached("forget.synced");
        await journal.RemoveDeletedAsync(ids).ConfigureAwait(false);
    }
}
