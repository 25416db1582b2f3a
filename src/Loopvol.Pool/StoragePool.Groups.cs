using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Pool;

/// <summary>
/// Volume group snapshots: every source volume copied at one point in time, all or nothing. The group's record,
/// its members' records and the volume → snapshot mappings are written before any image, so a crash at any step
/// leaves a reserved group whose parts are all known, and <see cref="DiscardPartialGroups"/> (at start, or a retry)
/// removes them.
/// </summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// Snapshots every volume in <paramref name="volumes"/> while <paramref name="quiescer"/> holds them still.
    /// The same name with the same volumes returns the same group; with other volumes,
    /// <see cref="AlreadyExistsException"/>. An unknown volume is <see cref="NotFoundException"/>. If any member
    /// fails, no member survives and the name is free again; so too when the hold ends (its limit passes) before
    /// every member is copied, which is <see cref="AbortedException"/>.
    /// </summary>
    public GroupSnapshotInfo CreateGroupSnapshot(string name, IReadOnlyList<ObjectId> volumes, IVolumeQuiescer quiescer,
        CancellationToken cancellationToken)
    {
        var sources = volumes.Distinct().OrderBy(v => v.ToString(), StringComparer.Ordinal).ToList();
        using var _ = journal.Locks.Acquire([$"group-name:{name}", .. sources.Select(v => v.ToString())]);
        cancellationToken.ThrowIfCancellationRequested();
        var arguments = new DefiningArguments { GroupSources = sources };
        EnsureMemberRecordFits(name, sources.Count);
        switch (journal.Check(ObjectKind.Group, name, arguments, _ => true))
        {
            case CheckResult.Conflict conflict:
                throw new AlreadyExistsException(
                    $"group snapshot '{name}' already exists as {conflict.Reservation.Id} with {conflict.Difference}");
            case CheckResult.Found { Reservation.State: ReservationState.Created } found:
                return GroupOf(found.Reservation);
            case CheckResult.Found { Reservation.State: ReservationState.Reserved } found:
                Discard(found.Reservation); // A crash left it half made: start again from nothing.
                break;
            case CheckResult.Found found:
                throw new BusyException($"group snapshot '{name}' ({found.Reservation.Id}) is being deleted");
        }
        var records = sources.Select(v => journal.Get(v) is { State: ReservationState.Created } r
            ? r
            : throw new NotFoundException($"source volume {v} does not exist")).ToList();
        records = [.. records.Select(EnsureDurable)];
        CheckRoom("a group snapshot", [.. records.Select(r => r.BackendName)]);
        var group = journal.Reserve(ObjectKind.Group, name, arguments);
        var members = records.Select(v => (Volume: v, Snapshot: journal.Reserve(ObjectKind.Snapshot, $"{group.Id}/{v.Id}",
            new DefiningArguments { SourceVolume = v.Id }))).ToList();
        var portableGroup = new PortableGroup(group.Id, group.RequestName, group.CreatedAt, members.Count);
        journal.AddMembers(group.Id, members.ToDictionary(m => m.Volume.Id.ToString(), m => m.Snapshot.Id.ToString()));
        Faults.Reached("create-group.reserved");
        try
        {
            using (var hold = quiescer.Quiesce(sources))
            {
                foreach (var (volume, snapshot) in members)
                {
                    images.Copy(volume.BackendName, snapshot.BackendName, volume.SizeBytes ?? 0, readOnly: true,
                        Portable(snapshot, portableGroup), cancellationToken);
                    Faults.Reached("create-group.member-copied");
                    if (!hold.Held)
                    {
                        throw new AbortedException(
                            $"group snapshot '{name}': its volumes were thawed (the freeze may last {hold.Limit}) before " +
                            $"all {members.Count} members were copied, so the copies would not be one point in time; " +
                            "nothing was kept, and the request may be retried");
                    }
                }
            }
            Faults.Reached("create-group.thawed");
            foreach (var (volume, snapshot) in members)
            {
                journal.MarkCreated(snapshot.Id, volume.SizeBytes ?? 0);
            }
            return GroupOf(journal.MarkCreated(group.Id, 0));
        }
        catch
        {
            Discard(journal.Get(group.Id)!);
            throw;
        }
    }

    /// <summary>
    /// Deletes a group snapshot and all its members. <paramref name="snapshotIds"/> must be exactly its members
    /// (<see cref="InvalidArgumentException"/> otherwise). An unknown group is success. Repeated: success.
    /// </summary>
    public void DeleteGroupSnapshot(ObjectId id, IReadOnlyCollection<string> snapshotIds, CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        if (journal.Get(id) is not { } group)
        {
            return;
        }
        var members = journal.Members(id).Values.Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
        if (!members.SetEquals(snapshotIds))
        {
            throw new InvalidArgumentException(
                $"snapshot_ids must be exactly the members of {id}: {string.Join(", ", members.Order(StringComparer.Ordinal))}");
        }
        journal.MarkDeleting(id);
        Faults.Reached("delete-group.marked");
        Discard(group, sweep: true);
    }

    public GroupSnapshotInfo? GetGroupSnapshot(ObjectId id) =>
        journal.Get(id) is { State: ReservationState.Created } group ? GroupOf(group) : null;

    /// <summary>Removes every group a crash left reserved (or half deleted), with its members. Returns how many.</summary>
    public int DiscardPartialGroups()
    {
        var partial = journal.All(ObjectKind.Group).Where(g => g.State != ReservationState.Created).ToList();
        partial.ForEach(g => Discard(g));
        return partial.Count;
    }

    /// <summary>
    /// Removes a group's member images and records, its mappings, then its record; what is gone already is skipped.
    /// Every record is marked deleting and every member image unlinked first; the records go once the unlinks are
    /// on disk: after the answer (<paramref name="sweep"/>, a delete) or before returning (an undo, or start-up).
    /// </summary>
    private void Discard(Reservation group, bool sweep = false)
    {
        var ids = new List<ObjectId>();
        foreach (var snapshot in journal.Members(group.Id).Values.Where(s => s.Length > 0))
        {
            if (ObjectId.TryParse(snapshot, ObjectKind.Snapshot, out var member))
            {
                journal.MarkDeleting(member.Value);
                images.Delete(snapshot);
                ids.Add(member.Value);
            }
        }
        journal.MarkDeleting(group.Id);
        ids.Add(group.Id);
        if (sweep)
        {
            Forget([.. ids]);
        }
        else
        {
            ForgetNow(ids);
        }
    }

    private GroupSnapshotInfo GroupOf(Reservation group) => new(group.Id,
        journal.Members(group.Id).Values
            .Select(s => ObjectId.TryParse(s, ObjectKind.Snapshot, out var id) ? journal.Get(id.Value) : null)
            .OfType<Reservation>().Select(SnapshotOf).ToList(),
        group.CreatedAt);
}
