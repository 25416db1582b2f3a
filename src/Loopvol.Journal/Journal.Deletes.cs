using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Journal;

/// <summary>
/// What the pool's fsync budget needs of the journal (docs/durability.md): an empty volume's image recorded as on
/// disk once it is, and records of finished deletes removed many at a time.
/// </summary>
public sealed partial class Journal
{
    /// <summary>
    /// Records that the image of a created object is on disk (<see cref="Reservation.ImageDurable"/>): called after
    /// the image and the pool directory are synced, before anything may put data in the image. Returns true when the
    /// record changed. Repeated, already durable, or an unknown or not created ID: no change, false.
    /// </summary>
    public Task<bool> MarkImageDurableAsync(ObjectId id) => WriteAsync("mark-image-durable", db =>
        db.Execute("UPDATE records SET image_durable = 1 WHERE uuid = $uuid AND kind = $kind AND state = 'created' " +
                   "AND image_durable = 0",
            ("$uuid", id.Uuid.ToString("D")), ("$kind", Internal.Columns.Text(id.Kind))) > 0);

    /// <summary>
    /// Removes the records of <paramref name="ids"/> that are being deleted (<see cref="MarkDeletingAsync"/>), with their
    /// group mappings and any directory entry, in one transaction; called once their backend objects' removal is
    /// on disk. A record in any other state is left alone, so a stale ID can never remove a live object. Returns
    /// how many records went. Repeated, or for unknown IDs: does nothing and returns 0. The write is deferred (not
    /// synced on its own): if a crash loses it, the records are still "deleting" and start-up removes them again.
    /// </summary>
    public Task<int> RemoveDeletedAsync(IReadOnlyCollection<ObjectId> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return Task.FromResult(0);
        }
        return WriteAsync("remove-deleted", db =>
        {
            var removed = 0;
            foreach (var uuid in ids.Select(id => id.Uuid.ToString("D")).Distinct(StringComparer.Ordinal))
            {
                if (db.Scalar("SELECT 1 FROM records WHERE uuid = $uuid AND state = 'deleting'", ("$uuid", uuid)) is null)
                {
                    continue;
                }
                db.Execute("DELETE FROM group_members WHERE group_uuid = $uuid", ("$uuid", uuid));
                db.Execute("DELETE FROM directory WHERE uuid = $uuid", ("$uuid", uuid));
                removed += db.Execute("DELETE FROM records WHERE uuid = $uuid", ("$uuid", uuid));
                Fault("remove-deleted.after-record");
            }
            return removed;
        }, Durability.Deferred);
    }
}
