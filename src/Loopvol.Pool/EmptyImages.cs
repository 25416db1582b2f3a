using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Microsoft.Extensions.Logging;

namespace Loopvol.Pool;

/// <summary>
/// The images of empty volumes, which are written without any fsync (docs/durability.md): the record says so
/// (<see cref="Reservation.ImageDurable"/> false). Before anything may put data in such an image or copy it (a
/// node attaching it, a snapshot, a clone, an expansion), <see cref="EnsureDurableAsync"/> puts it on disk and records
/// that; until then a crash may lose it, and <see cref="Restore"/> makes it again from its record, which is all it
/// holds. An image that was once durable is never made again: if it goes missing, that is reported to a person.
/// </summary>
public static partial class EmptyImages
{
    /// <summary>
    /// Makes the image of <paramref name="record"/> durable if it is not yet: made again if a crash lost it, synced
    /// with the pool directory, then recorded (a durable journal write) before the caller goes on. Called with the
    /// volume's lock held. Returns the record as it now is. Repeated, or already durable: no change. Fault point
    /// <c>image-durable.synced</c> between the syncs and the record.
    /// </summary>
    public static async Task<Reservation> EnsureDurableAsync(Journal.Journal journal, PoolLayout layout, Reservation record,
        IFaultInjector faults, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(faults);
        if (record.ImageDurable || record.State != ReservationState.Created)
        {
            return record;
        }
        Restore(journal, layout, record, logger);
        ImageStore.SyncImage(layout, record.BackendName);
        faults.Reached("image-durable.synced");
        await journal.MarkImageDurableAsync(record.Id).ConfigureAwait(false);
        return record with { ImageDurable = true };
    }

    /// <summary>
    /// Makes the image of a created empty volume that never reached the disk again when a crash lost it (it is
    /// missing, or not the size and record it was written with), logged as a repair. Returns true when it did. A
    /// durable image, or one of another kind of record, is never touched.
    /// </summary>
    public static bool Restore(Journal.Journal journal, PoolLayout layout, Reservation record, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(record);
        if (record.ImageDurable || record.State != ReservationState.Created || record.Id.Kind != ObjectKind.Volume)
        {
            return false;
        }
        var size = record.SizeBytes ?? 0;
        if (Intact(layout.ImagePath(record.BackendName), record.Id, size))
        {
            return false;
        }
        ImageStore.WriteEmpty(layout, record.BackendName, size,
            StoragePool.Portable(record) with { Kubernetes = journal.KubernetesNamesOf(record.Id) });
        Restored(logger, record.Id.ToString(), size);
        return true;
    }

    /// <summary>True when the image is there with the size and the record it was written with.</summary>
    private static bool Intact(string path, ObjectId id, long size)
    {
        var file = new FileInfo(path);
        if (!file.Exists || file.Length != size)
        {
            return false;
        }
        try
        {
            return ImageRecords.Read(path)?.Id == id;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [LoggerMessage(3103, LogLevel.Warning,
        "repair: the image of {Id} ({Size} bytes, empty, never synced) was lost before it reached the disk; made again from its record")]
    private static partial void Restored(ILogger logger, string id, long size);
}
