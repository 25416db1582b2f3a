using System.Collections.Concurrent;
using Loopvol.Core.Concurrency;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Pool;

/// <summary>
/// One node's part of a group snapshot across nodes, in two phases driven by the central controller
/// (docs/cluster.md, "Group snapshots across nodes"). Prepare records the part and holds its members still under a
/// lease; commit copies them, releases them and keeps the part; abort releases and discards it in any state. The
/// lease is kept here, on the node: when it ends before the commit, the members are released and the part is
/// discarded, whatever became of the controller. A prepared part owns its name's and members' locks until then.
/// </summary>
public sealed partial class StoragePool
{
    private readonly ConcurrentDictionary<ObjectId, PreparedPart> _prepared = new();

    /// <summary>
    /// Records this node's part and holds its members still; answers once they are. Repeated while prepared, or once
    /// committed: the part as it is. The name held by another attempt (another ID): <see cref="BusyException"/>, for
    /// the controller aborts that first. The name with other sources: <see cref="AlreadyExistsException"/>. A member
    /// this pool does not hold: <see cref="NotFoundException"/>. Fault points: <c>group-part.reserved</c>,
    /// <c>group-part.frozen</c>.
    /// </summary>
    public async Task<GroupPartInfo> PrepareGroupPartAsync(GroupPartRequest request, IVolumeQuiescer quiescer,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_prepared.ContainsKey(request.Id) && journal.Get(request.Id) is { } preparing)
        {
            return PartOf(preparing);
        }
        var members = request.Members.Distinct().OrderBy(v => v.ToString(), StringComparer.Ordinal).ToList();
        if (members.Where(m => !request.Sources.Contains(m)).Select(m => (ObjectId?)m).FirstOrDefault() is { } stray)
        {
            throw new InvalidArgumentException($"member_volume_ids: {stray} is not one of source_volume_ids");
        }
        var locks = journal.Locks.Acquire([$"group-name:{request.Name}", .. members.Select(v => v.ToString())]);
        ReservedGroup? reserved = null;
        IVolumeHold? hold = null;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var arguments = new DefiningArguments { GroupSources = request.Sources, GroupNodes = request.Nodes };
            EnsureMemberRecordFits(request.Name, members.Count);
            switch (await journal.CheckAsync(ObjectKind.Group, request.Name, arguments, _ => true).ConfigureAwait(false))
            {
                case CheckResult.Conflict conflict:
                    throw new AlreadyExistsException(
                        $"group snapshot '{request.Name}' already exists as {conflict.Reservation.Id} with {conflict.Difference}");
                case CheckResult.Found found when found.Reservation.Id != request.Id:
                    throw new BusyException($"group snapshot '{request.Name}': this node holds an earlier attempt, " +
                                            $"{found.Reservation.Id}, which must be aborted first");
                case CheckResult.Found { Reservation.State: ReservationState.Created } found:
                    locks.Dispose();
                    return PartOf(found.Reservation);
                case CheckResult.Found { Reservation.State: ReservationState.Reserved } found:
                    await DiscardAsync(found.Reservation).ConfigureAwait(false); // Prepared by an agent that died since.
                    break;
                case CheckResult.Found found:
                    throw new BusyException($"group snapshot '{request.Name}' ({found.Reservation.Id}) is being deleted");
            }
            reserved = await ReserveGroupAsync(request.Name, arguments, members, request.Id).ConfigureAwait(false);
            await RecordKubernetesNamesAsync(request.Id, request.KubernetesNames).ConfigureAwait(false);
            Faults.Reached("group-part.reserved");
            hold = await Blocking.RunAsync(() => quiescer.Quiesce(members, request.Lease), cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested(); // The controller gave up while this node froze.
            Faults.Reached("group-part.frozen");
            var part = new PreparedPart(reserved, hold, locks, hold.Limit);
            _prepared[request.Id] = part;
            part.StartLease(() => ExpireAsync(request.Id));
            return PartOf(reserved.Group);
        }
        catch
        {
            try
            {
                if (hold is not null)
                {
                    ReleaseQuietly(hold);
                }
                if (reserved is not null && journal.Get(reserved.Group.Id) is { } group)
                {
                    await DiscardAsync(group).ConfigureAwait(false);
                }
            }
            finally
            {
                locks.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Copies every member of a prepared part while they are still held, releases them, and keeps the part. Not
    /// prepared here (its lease ended, the agent restarted, or it was never prepared): <see cref="AbortedException"/>,
    /// and whatever is left of it is discarded. The hold ended before the last copy: the same. Repeated once
    /// committed: the part. Fault points: <c>group-part.member-copied</c>, <c>group-part.thawed</c>.
    /// </summary>
    public async Task<GroupPartInfo> CommitGroupPartAsync(ObjectId id, CancellationToken cancellationToken)
    {
        if (!_prepared.TryRemove(id, out var part))
        {
            return await CommittedOrDiscardAsync(id).ConfigureAwait(false);
        }
        var name = part.Group.Group.RequestName;
        try
        {
            await Blocking.RunAsync(() =>
            {
                CopyHeld(name, part.Group, part.Hold, "group-part", cancellationToken);
                part.Hold.Dispose();
            }, cancellationToken).ConfigureAwait(false);
            Faults.Reached("group-part.thawed");
            return PartOf(await KeepGroupAsync(part.Group).ConfigureAwait(false));
        }
        catch
        {
            ReleaseQuietly(part.Hold);
            if (journal.Get(id) is { } group)
            {
                await DiscardAsync(group).ConfigureAwait(false);
            }
            throw;
        }
        finally
        {
            part.Dispose();
        }
    }

    /// <summary>
    /// A commit of a part that is not prepared: another commit of it still running is <see cref="BusyException"/>;
    /// one that finished answers the part; anything else left of it is discarded, and the answer is
    /// <see cref="AbortedException"/>.
    /// </summary>
    private async Task<GroupPartInfo> CommittedOrDiscardAsync(ObjectId id)
    {
        if (journal.Get(id) is { } record && IsPart(record))
        {
            using var _ = journal.Locks.Acquire($"group-name:{record.RequestName}", id.ToString());
            switch (journal.Get(id))
            {
                case { State: ReservationState.Created } kept:
                    return PartOf(kept);
                case { } left:
                    await DiscardAsync(left).ConfigureAwait(false);
                    break;
            }
        }
        throw new AbortedException($"group snapshot {id} is not prepared on this node (its lease ended, or the agent " +
                                   "restarted): nothing of it is kept here, and the group must be made again");
    }

    /// <summary>
    /// Releases and discards this node's part of a group, by <paramref name="id"/> or else <paramref name="name"/>, in
    /// any state. A prepare or commit running on it is waited for (at most <see cref="AbortWait"/>, then
    /// <see cref="BusyException"/>), so an abort is never lost to a step still under way. Unknown: success. A group
    /// made whole on this node is no part: <see cref="PreconditionFailedException"/>. Repeated: no change.
    /// </summary>
    public async Task AbortGroupPartAsync(ObjectId? id, string? name)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var record = id is { } given ? journal.Get(given) : name is { Length: > 0 } ? journal.Find(ObjectKind.Group, name) : null;
            if (record is null)
            {
                return;
            }
            if (!IsPart(record))
            {
                throw new PreconditionFailedException(
                    $"group snapshot {record.Id} ('{record.RequestName}') was made on this node alone; it is no part to abort");
            }
            if (_prepared.TryRemove(record.Id, out var part))
            {
                using (part)
                {
                    ReleaseQuietly(part.Hold);
                    await DiscardAsync(record).ConfigureAwait(false);
                }
                return;
            }
            try
            {
                using var _ = journal.Locks.Acquire($"group-name:{record.RequestName}", record.Id.ToString());
                if (journal.Get(record.Id) is { } now)
                {
                    await DiscardAsync(now).ConfigureAwait(false);
                }
                return;
            }
            catch (BusyException) when (waited.Elapsed < AbortWait)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10)).ConfigureAwait(false); // A prepare or commit is finishing.
            }
        }
    }

    /// <summary>The longest an abort waits for a prepare or commit of the same part to finish.</summary>
    private static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(20);

    /// <summary>The group this pool holds under <paramref name="id"/>, or else <paramref name="name"/>; null when none.</summary>
    public GroupPartInfo? GetGroupPart(ObjectId? id, string? name)
    {
        var record = id is { } given ? journal.Get(given) : name is { Length: > 0 } ? journal.Find(ObjectKind.Group, name) : null;
        return record is { State: ReservationState.Reserved or ReservationState.Created } ? PartOf(record) : null;
    }

    /// <summary>Every part of a group across nodes this pool holds, prepared or committed.</summary>
    public IReadOnlyList<GroupPartInfo> GroupParts() =>
        [.. journal.All(ObjectKind.Group).Where(g => IsPart(g) && g.State is ReservationState.Reserved or ReservationState.Created).Select(PartOf)];

    private static bool IsPart(Reservation group) => group.Arguments.GroupNodes is { Count: > 0 };

    private GroupPartInfo PartOf(Reservation group)
    {
        var committed = group.State == ReservationState.Created && !_prepared.ContainsKey(group.Id);
        return new GroupPartInfo(group.Id, group.RequestName, committed ? GroupPartState.Committed : GroupPartState.Prepared,
            group.Arguments.GroupNodes ?? [], group.Arguments.GroupSources ?? [], committed ? GroupOf(group) : null, group.CreatedAt);
    }

    /// <summary>The lease ended before a commit took the part: release the members and discard it. Never throws.</summary>
    private async Task ExpireAsync(ObjectId id)
    {
        if (!_prepared.TryRemove(id, out var part))
        {
            return;
        }
        using (part)
        {
            try
            {
                PoolLog.PartExpired(options.Logger, part.Group.Group.RequestName, id.ToString(), part.Lease);
                ReleaseQuietly(part.Hold);
                Faults.Reached("group-part.expired");
                if (journal.Get(id) is { } group)
                {
                    await DiscardAsync(group).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                PoolLog.PartExpiryFailed(options.Logger, id.ToString(), e.Message);
            }
        }
    }

    /// <summary>Releases a hold whose outcome is already decided; a thaw that fails is counted and logged by the quiescer.</summary>
    private static void ReleaseQuietly(IVolumeHold hold)
    {
        try
        {
            hold.Dispose();
        }
        catch (Exception e) when (e is LoopvolException or IOException)
        {
            // The quiescer counted it and keeps trying to thaw; a restart thaws everything too.
        }
    }

    /// <summary>A prepared part: its reservations, the hold on its members, its locks, and the lease's timer.</summary>
    private sealed class PreparedPart(ReservedGroup group, IVolumeHold hold, IDisposable locks, TimeSpan lease) : IDisposable
    {
        private Timer? _timer;

        public ReservedGroup Group => group;

        public IVolumeHold Hold => hold;

        public TimeSpan Lease => lease;

        public void StartLease(Func<Task> expire) => _timer = new Timer(_ => _ = expire(), null, lease, Timeout.InfiniteTimeSpan);

        public void Dispose()
        {
            _timer?.Dispose();
            locks.Dispose();
        }
    }
}
