using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Pool;

/// <summary>
/// Volume group snapshots: every source volume copied at one point in time, all or nothing. The group's record,
/// its members' records and the volume → snapshot mappings are written before any image, so a crash at any step
/// leaves a reserved group whose parts are all known, and <see cref="DiscardPartialGroupsAsync"/> (at start, or a retry)
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
    public async Task<GroupSnapshotInfo> CreateGroupSnapshotAsync(string name, IReadOnlyList<ObjectId> volumes,
        IVolumeQuiescer quiescer, CancellationToken cancellationToken)
    {
        var sources = volumes.Distinct().OrderBy(v => v.ToString(), StringComparer.Ordinal).ToList();
        using var _ = journal.Locks.Acquire([$"group-name:{name}", .. sources.Select(v => v.ToString())]);
        cancellationToken.ThrowIfCancellationRequested();
        var arguments = new DefiningArguments { GroupSources = sources };
        EnsureMemberRecordFits(name, sources.Count);
        switch (await journal.CheckAsync(ObjectKind.Group, name, arguments, _ => true).ConfigureAwait(false))
        {
            case CheckResult.Conflict conflict:
                throw new AlreadyExistsException(
                    $"group snapshot '{name}' already exists as {conflict.Reservation.Id} with {conflict.Difference}");
            case CheckResult.Found { Reservation.State: ReservationState.Created } found:
                return GroupOf(found.Reservation);
            case CheckResult.Found { Reservation.State: ReservationState.Reserved } found:
                await DiscardAsync(found.Reservation).ConfigureAwait(false); // A crash left it half made: start again.
                break;
            case CheckResult.Found found:
                throw new BusyException($"group snapshot '{name}' ({found.Reservation.Id}) is being deleted");
        }
        var reserved = await ReserveGroupAsync(name, arguments, sources).ConfigureAwait(false);
        Faults.Reached("create-group.reserved");
        try
        {
            await Blocking.RunAsync(() =>
            {
                using var hold = quiescer.Quiesce(sources);
                CopyHeld(name, reserved, hold, "create-group", cancellationToken);
            }, cancellationToken).ConfigureAwait(false);
            Faults.Reached("create-group.thawed");
            return GroupOf(await KeepGroupAsync(reserved).ConfigureAwait(false));
        }
        catch
        {
            await DiscardAsync(journal.Get(reserved.Group.Id)!).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A group reserved with its members' snapshots and mappings, before any image is made.</summary>
    private sealed record ReservedGroup(Reservation Group, IReadOnlyList<(Reservation Volume, Reservation Snapshot)> Members,
        PortableGroup Portable);

    /// <summary>
    /// Reserves the group (under <paramref name="id"/> when given), then a snapshot per source volume, then the
    /// mappings, all durable before any image is made. A source this pool does not hold is <see cref="NotFoundException"/>.
    /// </summary>
    private async Task<ReservedGroup> ReserveGroupAsync(string name, DefiningArguments arguments, IReadOnlyList<ObjectId> sources,
        ObjectId? id = null)
    {
        var records = sources.Select(v => journal.Get(v) is { State: ReservationState.Created } r
            ? r
            : throw new NotFoundException($"source volume {v} does not exist")).ToList();
        for (var i = 0; i < records.Count; i++)
        {
            records[i] = await EnsureDurableAsync(records[i]).ConfigureAwait(false);
        }
        CheckRoom("a group snapshot", [.. records.Select(r => r.BackendName)]);
        var group = await journal.ReserveAsync(ObjectKind.Group, name, arguments, id: id).ConfigureAwait(false);
        var members = new List<(Reservation Volume, Reservation Snapshot)>(records.Count);
        foreach (var volume in records)
        {
            members.Add((volume, await journal.ReserveAsync(ObjectKind.Snapshot, $"{group.Id}/{volume.Id}",
                new DefiningArguments { SourceVolume = volume.Id }).ConfigureAwait(false)));
        }
        await journal.AddMembersAsync(group.Id,
            members.ToDictionary(m => m.Volume.Id.ToString(), m => m.Snapshot.Id.ToString())).ConfigureAwait(false);
        return new ReservedGroup(group, members, new PortableGroup(group.Id, group.RequestName, group.CreatedAt, members.Count));
    }

    /// <summary>
    /// Copies every member while <paramref name="hold"/> holds their volumes still, with no sync (that follows the
    /// thaw, in <see cref="KeepGroupAsync"/>); fault point <c>{step}.member-copied</c> after each. A hold that ended
    /// before the last copy is <see cref="AbortedException"/>.
    /// </summary>
    private void CopyHeld(string name, ReservedGroup group, IVolumeHold hold, string step, CancellationToken cancellationToken)
    {
        foreach (var (volume, snapshot) in group.Members)
        {
            images.Copy(volume.BackendName, snapshot.BackendName, volume.SizeBytes ?? 0, readOnly: true,
                Portable(snapshot, group.Portable), cancellationToken, durable: false);
            Faults.Reached($"{step}.member-copied");
            if (!hold.Held)
            {
                throw new AbortedException(
                    $"group snapshot '{name}': its volumes were thawed (the freeze may last {hold.Limit}) before " +
                    $"all {group.Members.Count} members were copied, so the copies would not be one point in time; " +
                    "nothing was kept, and the request may be retried");
            }
        }
    }

    /// <summary>
    /// Puts every member's image on disk (copied without a sync while the volumes were held), then marks every
    /// member, then the group, created. A crash before that leaves the group reserved, so it is discarded.
    /// </summary>
    private async Task<Reservation> KeepGroupAsync(ReservedGroup group)
    {
        await Blocking.RunAsync(() => images.MakeDurable(group.Members.Select(m => m.Snapshot.BackendName)), CancellationToken.None)
            .ConfigureAwait(false);
        foreach (var (volume, snapshot) in group.Members)
        {
            await journal.MarkCreatedAsync(snapshot.Id, volume.SizeBytes ?? 0).ConfigureAwait(false);
        }
        var created = await journal.MarkCreatedAsync(group.Group.Id, 0).ConfigureAwait(false);
        foreach (var (volume, _) in group.Members)
        {
            await KeepThickAsync(volume, CancellationToken.None).ConfigureAwait(false); // The reflinks shared their blocks.
        }
        return created;
    }

    /// <summary>
    /// Deletes a group snapshot and all its members. <paramref name="snapshotIds"/> must be exactly its members
    /// (<see cref="InvalidArgumentException"/> otherwise). An unknown group is success. Repeated: success.
    /// </summary>
    public async Task DeleteGroupSnapshotAsync(ObjectId id, IReadOnlyCollection<string> snapshotIds,
        CancellationToken cancellationToken)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        cancellationToken.ThrowIfCancellationRequested();
        if (journal.Get(id) is not { } group)
        {
            return;
        }
        var members = journal.Members(id).Values.Where(s => s.Length > 0).ToHashSet(StringComparer.Ordinal);
        if (group.State == ReservationState.Deleting && members.Count == 0)
        {
            return; // Deleted, members and all: only its record waits for the sweeper. A repeat is success.
        }
        if (!members.SetEquals(snapshotIds))
        {
            throw new InvalidArgumentException(
                $"snapshot_ids must be exactly the members of {id}: {string.Join(", ", members.Order(StringComparer.Ordinal))}");
        }
        await journal.MarkDeletingAsync(id).ConfigureAwait(false);
        Faults.Reached("delete-group.marked");
        await DiscardAsync(group, sweep: true).ConfigureAwait(false);
    }

    public GroupSnapshotInfo? GetGroupSnapshot(ObjectId id) =>
        journal.Get(id) is { State: ReservationState.Created } group ? GroupOf(group) : null;

    /// <summary>Removes every group a crash left reserved (or half deleted), with its members. Returns how many.</summary>
    public async Task<int> DiscardPartialGroupsAsync()
    {
        var partial = journal.All(ObjectKind.Group).Where(g => g.State != ReservationState.Created).ToList();
        foreach (var group in partial)
        {
            await DiscardAsync(group).ConfigureAwait(false);
        }
        return partial.Count;
    }

    /// <summary>
    /// Removes a group's member images and records, its mappings, then its record; what is gone already is skipped.
    /// Every record is marked deleting and every member image unlinked first; the records go once the unlinks are
    /// on disk: after the answer (<paramref name="sweep"/>, a delete) or before returning (an undo, or start-up).
    /// </summary>
    private async Task DiscardAsync(Reservation group, bool sweep = false)
    {
        var ids = new List<ObjectId>();
        foreach (var snapshot in journal.Members(group.Id).Values.Where(s => s.Length > 0))
        {
            if (ObjectId.TryParse(snapshot, ObjectKind.Snapshot, out var member))
            {
                await journal.MarkDeletingAsync(member.Value).ConfigureAwait(false);
                images.Delete(snapshot);
                ids.Add(member.Value);
            }
        }
        await journal.MarkDeletingAsync(group.Id).ConfigureAwait(false);
        ids.Add(group.Id);
        if (sweep)
        {
            Forget([.. ids]);
        }
        else
        {
            await ForgetNowAsync(ids).ConfigureAwait(false);
        }
    }

    private GroupSnapshotInfo GroupOf(Reservation group) => new(group.Id,
        journal.Members(group.Id).Values
            .Select(s => ObjectId.TryParse(s, ObjectKind.Snapshot, out var id) ? journal.Get(id.Value) : null)
            .OfType<Reservation>().Select(SnapshotOf).ToList(),
        group.CreatedAt);
}
