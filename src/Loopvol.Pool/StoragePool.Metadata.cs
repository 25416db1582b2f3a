using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.Pool.Extents;

namespace Loopvol.Pool;

/// <summary>
/// Snapshot metadata (changed-block tracking): which blocks of a snapshot hold data, and which changed between two
/// snapshots of one volume (docs/snapshot-metadata.md). Reads only; repeated, the same answer.
/// </summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// The blocks of <paramref name="snapshot"/> that hold data, from the block holding
    /// <paramref name="startingOffset"/>. An unknown snapshot is <see cref="NotFoundException"/>; an offset
    /// past its size <see cref="OutOfRangeException"/>. Dispose the answer.
    /// </summary>
    public MetadataStream GetAllocatedBlocks(ObjectId snapshot, long startingOffset, CancellationToken cancellationToken)
    {
        var record = CreatedSnapshot(snapshot, "snapshot_id");
        var capacity = record.SizeBytes ?? 0;
        CheckStartingOffset(startingOffset, capacity);
        cancellationToken.ThrowIfCancellationRequested();
        var image = Pin(record, "snapshot_id");
        try
        {
            var ranges = AllocatedRanges.Of(image, Blocks.Floor(startingOffset), capacity);
            return new MetadataStream(snapshot.ToString(), capacity, MetadataMethod.DataRegions, ranges, () => 0, [image],
                options.Logger);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The blocks that differ between <paramref name="baseSnapshot"/> and the later <paramref name="targetSnapshot"/>
    /// of the same volume, from the block holding <paramref name="startingOffset"/> to the target's size. On a pool
    /// of reflinks they come from the extent maps, reading no data; on a pool of copies, from comparing the blocks
    /// that hold data in either. Unknown snapshots are <see cref="NotFoundException"/>; snapshots of different
    /// volumes, or a base taken after the target, <see cref="InvalidArgumentException"/>; an offset past the target's
    /// size <see cref="OutOfRangeException"/>. Dispose the answer.
    /// </summary>
    public MetadataStream GetChangedBlocks(ObjectId baseSnapshot, ObjectId targetSnapshot, long startingOffset,
        CancellationToken cancellationToken)
    {
        var baseRecord = CreatedSnapshot(baseSnapshot, "base_snapshot_id");
        var targetRecord = CreatedSnapshot(targetSnapshot, "target_snapshot_id");
        if (baseRecord.Arguments.SourceVolume != targetRecord.Arguments.SourceVolume)
        {
            throw new InvalidArgumentException(
                $"base_snapshot_id {baseSnapshot} is a snapshot of volume {baseRecord.Arguments.SourceVolume}, " +
                $"target_snapshot_id {targetSnapshot} of volume {targetRecord.Arguments.SourceVolume}: both must be of the same volume");
        }
        if (baseRecord.CreatedAt > targetRecord.CreatedAt)
        {
            throw new InvalidArgumentException(
                $"base_snapshot_id {baseSnapshot} was taken at {baseRecord.CreatedAt:O}, after target_snapshot_id " +
                $"{targetSnapshot} ({targetRecord.CreatedAt:O}): the base must be the earlier snapshot");
        }
        var capacity = targetRecord.SizeBytes ?? 0;
        CheckStartingOffset(startingOffset, capacity);
        cancellationToken.ThrowIfCancellationRequested();
        var baseImage = Pin(baseRecord, "base_snapshot_id");
        PinnedImage? targetImage = null;
        try
        {
            targetImage = Pin(targetRecord, "target_snapshot_id");
            var changes = new ChangedRanges(baseImage, targetImage, capacity, cancellationToken);
            var byExtents = images.SupportsReflink == true && Fiemap.IsSupported(baseImage.Handle, baseImage.Path) &&
                            Fiemap.IsSupported(targetImage.Handle, targetImage.Path);
            var from = Blocks.Floor(startingOffset);
            return new MetadataStream($"{baseSnapshot}..{targetSnapshot}", capacity,
                byExtents ? MetadataMethod.ExtentMaps : MetadataMethod.Contents,
                byExtents ? changes.ByExtents(from) : changes.ByContents(from), () => changes.BytesRead,
                [baseImage, targetImage], options.Logger);
        }
        catch
        {
            targetImage?.Dispose();
            baseImage.Dispose();
            throw;
        }
    }

    private Reservation CreatedSnapshot(ObjectId id, string field) =>
        id.Kind == ObjectKind.Snapshot && journal.Get(id) is { State: ReservationState.Created } record
            ? record
            : throw new NotFoundException($"{field} {id} does not exist");

    /// <summary>
    /// Opens a snapshot's image, then checks that its record still stands: a snapshot deleted before that is
    /// <see cref="NotFoundException"/>; one deleted after is read to the end from the open image.
    /// </summary>
    private PinnedImage Pin(Reservation record, string field)
    {
        var image = PinnedImage.Open(images.Layout.ImagePath(record.BackendName))
                    ?? throw new NotFoundException($"{field} {record.Id} does not exist (its image is gone)");
        if (journal.Get(record.Id) is not { State: ReservationState.Created })
        {
            image.Dispose();
            throw new NotFoundException($"{field} {record.Id} does not exist (it is being deleted)");
        }
        return image;
    }

    /// <summary>CSI: a starting offset that is negative or past the volume's size is OUT_OF_RANGE.</summary>
    private static void CheckStartingOffset(long startingOffset, long capacity)
    {
        if (startingOffset < 0 || startingOffset > capacity)
        {
            throw new OutOfRangeException(
                $"starting_offset {startingOffset} is not within the snapshot's {capacity} bytes");
        }
    }
}
