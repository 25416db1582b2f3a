using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Pool;

/// <summary>Snapshots: read-only copies of one volume's image, at the time they are taken.</summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// Takes a snapshot of <paramref name="sourceVolume"/>, or returns the one this name already made from the same
    /// volume. The same name from another volume is <see cref="AlreadyExistsException"/>; an unknown volume
    /// <see cref="NotFoundException"/>. Retried after a crash at any step: finishes the same snapshot.
    /// </summary>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string name, ObjectId sourceVolume, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire($"snapshot-name:{name}", sourceVolume.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        var arguments = new DefiningArguments { SourceVolume = sourceVolume };
        EnsureRecordFits(ObjectKind.Snapshot, name, arguments);
        if (await ResumeAsync(journal.CheckAsync(ObjectKind.Snapshot, name, arguments, r => images.Exists(r.BackendName)),
                "snapshot", name).ConfigureAwait(false) is { } earlier)
        {
            return SnapshotOf(earlier);
        }
        var source = journal.Get(sourceVolume) is { State: ReservationState.Created } volume
            ? await EnsureDurableAsync(volume).ConfigureAwait(false)
            : throw new NotFoundException($"source volume {sourceVolume} does not exist");
        var size = source.SizeBytes ?? 0;
        var reservation = await AdmitAsync(ObjectKind.Snapshot, name, arguments, size, source.BackendName).ConfigureAwait(false);
        var snapshot = await BuildAsync("create-snapshot", reservation, size, () => Blocking.RunAsync(() =>
            images.Copy(source.BackendName, reservation.BackendName, size, readOnly: true, Portable(reservation),
                cancellationToken), cancellationToken)).ConfigureAwait(false);
        await KeepThickAsync(source, CancellationToken.None).ConfigureAwait(false); // The reflink shared its blocks.
        return SnapshotOf(snapshot);
    }

    /// <summary>
    /// Deletes a snapshot as <see cref="DeleteVolumeAsync"/> deletes a volume (its record goes after the answer). Unknown
    /// is success; a member of a group snapshot is <see cref="PreconditionFailedException"/> (the group is deleted as a
    /// whole). Retried: finishes the delete.
    /// </summary>
    public async Task DeleteSnapshotAsync(ObjectId id, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        if (journal.Get(id) is not { } record)
        {
            return;
        }
        if (record.Group is { } group)
        {
            throw new PreconditionFailedException($"snapshot {id} belongs to group snapshot {group}; delete the group");
        }
        await journal.MarkDeletingAsync(id).ConfigureAwait(false);
        Faults.Reached("delete-snapshot.marked");
        images.Delete(record.BackendName);
        Forget(id);
    }

    public SnapshotInfo? GetSnapshot(ObjectId id) =>
        journal.Get(id) is { State: ReservationState.Created } record ? SnapshotOf(record) : null;

    public Page<SnapshotInfo> ListSnapshots(string? startingToken, int maxEntries, ListFilter filter)
    {
        var page = journal.List(ObjectKind.Snapshot, startingToken, maxEntries, filter);
        return new Page<SnapshotInfo>([.. page.Items.Select(SnapshotOf)], page.NextToken);
    }

    private SnapshotInfo SnapshotOf(Reservation r) => new(r.Id,
        r.Arguments.SourceVolume ?? throw new InvalidOperationException($"snapshot {r.Id} has no source volume"),
        r.SizeBytes ?? 0, r.CreatedAt, r.Group)
    {
        GroupNode = r.Group is { } group && journal.Get(group)?.Arguments.GroupNodes is [var first, ..] ? first : null,
    };
}
