using Grpc.Core;
using Loopvol.Agent.V1;
using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using AgentClient = Loopvol.Agent.V1.Agent.AgentClient;
using State = Loopvol.Agent.V1.GroupPart.Types.State;

namespace Loopvol.Cluster.Services;

/// <summary>
/// Group snapshots whose members live on several nodes, in two phases (docs/cluster.md, "Group snapshots across
/// nodes"). Every node first records its part and freezes its members under a lease; only when all hold their freeze
/// are they told to copy, after which each thaws by itself. Any refusal, timeout or lost agent aborts the whole group
/// on every node, and the caller is told which node failed. Nothing is kept here: a retry by name reads the parts the
/// nodes hold and either answers the complete group or discards what is there and starts again. The group's ID names
/// the first node (in ordinal order), whose part lists the others. Crash points (tests only): <c>group.checked</c>,
/// <c>group.prepared</c> (every member frozen), <c>group.committed-one</c>, <c>group.committed</c>.
/// </summary>
public sealed class GroupsAcrossNodes(Forwarder forward, TimeSpan lease)
{
    /// <summary>One create per name at a time in this controller: a second would abort the first one's parts.</summary>
    private readonly Core.Concurrency.OperationLocks _names = new();

    /// <summary>
    /// Makes, or finds complete, the group of <paramref name="owners"/> (each source's agent, in request order).
    /// <paramref name="holder"/>: a node found holding the name, asked too (one of another group is ALREADY_EXISTS).
    /// </summary>
    public async Task<VolumeGroupSnapshot> CreateAsync(CreateVolumeGroupSnapshotRequest request, IReadOnlyList<AgentAddress> owners,
        AgentAddress? holder, CancellationToken cancellationToken)
    {
        using var _ = _names.Acquire(request.Name);
        var nodes = owners.DistinctBy(o => o.NodeId).OrderBy(o => o.NodeId, StringComparer.Ordinal).ToList();
        var sources = request.SourceVolumeIds.Select(Untagged).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var asked = holder is null || nodes.Any(n => n.NodeId == holder.NodeId) ? nodes : [.. nodes, holder];
        var earlier = await ReadAsync(asked, new GroupPartRef { Name = request.Name }, cancellationToken).ConfigureAwait(false);
        if (earlier.FirstOrDefault(p => p.Part.State != State.Absent &&
                                        (p.Part.Nodes.Count == 0 || !p.Part.SourceVolumeIds.Order(StringComparer.Ordinal).SequenceEqual(sources)))
            is { Part: { } other, Agent: { } where })
        {
            throw new AlreadyExistsException($"group snapshot '{request.Name}' already exists on node {where.NodeId} as " +
                                             $"group-{other.GroupUuid} of source volumes {string.Join(",", other.SourceVolumeIds)}");
        }
        if (Complete(earlier) is { } found)
        {
            return found;
        }
        await AbortAsync(earlier.Where(p => p.Part.State != State.Absent).Select(p => (p.Agent, Ref(p.Part))), cancellationToken)
            .ConfigureAwait(false);
        forward.Faults.Reached("group.checked");

        var uuid = Guid.NewGuid().ToString("D");
        var prepare = nodes.Select(agent => new PrepareGroupPartRequest
        {
            Name = request.Name,
            GroupUuid = uuid,
            SourceVolumeIds = { request.SourceVolumeIds },
            Nodes = { nodes.Select(n => n.NodeId) },
            MemberVolumeIds = { request.SourceVolumeIds.Where((_, i) => owners[i].NodeId == agent.NodeId).Distinct() },
            LeaseMs = (uint)lease.TotalMilliseconds,
            Parameters = { request.Parameters },
        }).ToList();
        var all = nodes.Select(n => (n, new GroupPartRef { GroupUuid = uuid })).ToList();
        try
        {
            // Phase one: every node recorded and frozen within half the lease, so the copies have the other half.
            using (var within = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                within.CancelAfter(lease / 2);
                await EachAsync(nodes, (agent, i, token) => Call(agent, (c, o) => c.PrepareGroupPartAsync(prepare[i], o).ResponseAsync, token),
                    within.Token, node => cancellationToken.IsCancellationRequested
                        ? new OperationCanceledException(cancellationToken)
                        : new AbortedException($"group snapshot '{request.Name}': node {node} did not freeze its members within " +
                                               $"half the lease of {lease.TotalSeconds:0.###} s; nothing was kept, and the request may be retried"))
                    .ConfigureAwait(false);
            }
            forward.Faults.Reached("group.prepared");
            // Phase two: each copies while still frozen and thaws; one round trip inside the freeze window.
            var parts = await EachAsync(nodes, async (agent, _, token) =>
            {
                var part = await Call(agent, (c, o) => c.CommitGroupPartAsync(new GroupPartRef { GroupUuid = uuid }, o).ResponseAsync, token)
                    .ConfigureAwait(false);
                forward.Faults.Reached("group.committed-one");
                return part;
            }, cancellationToken).ConfigureAwait(false);
            forward.Faults.Reached("group.committed");
            return Assemble(parts);
        }
        catch
        {
            await AbortAsync(all, CancellationToken.None, quietly: true).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The group whose ID names <paramref name="home"/>: its members from every node. A group made whole on that node
    /// (no part): null, for the caller forwards the call there. A node of it out of reach: <see cref="UnavailableException"/>.
    /// </summary>
    public async Task<(bool Part, VolumeGroupSnapshot? Group, IReadOnlyList<(AgentAddress Agent, GroupPart Part)> Parts)> ReadAsync(
        AgentAddress home, ObjectId id, CancellationToken cancellationToken)
    {
        var reference = new GroupPartRef { GroupUuid = id.Uuid.ToString("D") };
        var first = await Call(home, (c, o) => c.GetGroupPartAsync(reference, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
        if (first.State == State.Absent || first.Nodes.Count == 0)
        {
            return (false, null, []);
        }
        var agents = first.Nodes.Select(n => forward.Agents.FirstOrDefault(a => a.NodeId == n)
            ?? throw new UnavailableException($"group snapshot {id}: no loopvol agent is known for its node {n}")).ToList();
        var parts = await ReadAsync(agents, reference, cancellationToken).ConfigureAwait(false);
        return (true, Complete(parts), parts);
    }

    /// <summary>
    /// Finds parts of groups that never became complete and discards them everywhere: a create cut short (the
    /// controller killed between commits, say) whose name is never retried would otherwise keep them. Only parts made
    /// more than <paramref name="olderThan"/> ago count, so no create still under way is touched (a part is final once
    /// its lease and the commit's deadline have passed). A group with a node out of reach is left for a later sweep;
    /// a complete group is never touched. Answers how many groups were discarded.
    /// </summary>
    public async Task<int> SweepAsync(TimeSpan olderThan, CancellationToken cancellationToken)
    {
        var listed = new List<GroupPart>();
        foreach (var agent in forward.Agents)
        {
            try
            {
                listed.AddRange((await Call(agent, (c, o) => c.ListGroupPartsAsync(new ListGroupPartsRequest(), o).ResponseAsync,
                    cancellationToken).ConfigureAwait(false)).Parts);
            }
            catch (Exception e) when (e is LoopvolException or RpcException)
            {
                // Out of reach, or not able to list: its parts are looked at by a later sweep.
            }
        }
        var cutoff = DateTimeOffset.UtcNow - olderThan;
        var discarded = 0;
        foreach (var part in listed.Where(p => p.CreationTime.ToDateTimeOffset() <= cutoff).DistinctBy(p => p.GroupUuid))
        {
            var agents = part.Nodes.Select(n => forward.Agents.FirstOrDefault(a => a.NodeId == n)).ToList();
            if (agents.Any(a => a is null))
            {
                continue;
            }
            try
            {
                using var _ = _names.Acquire(part.Name); // Not while a create of that name runs here.
                var parts = await ReadAsync(agents!, new GroupPartRef { GroupUuid = part.GroupUuid }, cancellationToken).ConfigureAwait(false);
                if (Complete(parts) is null)
                {
                    await AbortAsync(parts.Where(p => p.Part.State != State.Absent).Select(p => (p.Agent, Ref(p.Part))), cancellationToken)
                        .ConfigureAwait(false);
                    discarded++;
                }
            }
            catch (Exception e) when (e is LoopvolException or RpcException)
            {
                // A node out of reach, or a part busy: a later sweep looks again.
            }
        }
        return discarded;
    }

    /// <summary>Discards every part of a group, the first node's last, so a delete cut short can be repeated by ID.</summary>
    public Task DeleteAsync(IReadOnlyList<(AgentAddress Agent, GroupPart Part)> parts, CancellationToken cancellationToken) =>
        AbortAsync(parts.Where(p => p.Part.State != State.Absent).Select(p => (p.Agent, Ref(p.Part))), cancellationToken, homeLast: true);

    /// <summary>The group, when every node holds its part committed under one UUID; else null.</summary>
    private static VolumeGroupSnapshot? Complete(IReadOnlyList<(AgentAddress Agent, GroupPart Part)> parts) =>
        parts.Count > 0 && parts.All(p => p.Part.State == State.Committed) &&
        parts.Select(p => p.Part.GroupUuid).Distinct(StringComparer.Ordinal).Count() == 1 &&
        parts.Select(p => p.Agent.NodeId).Order(StringComparer.Ordinal).SequenceEqual(parts[0].Part.Nodes)
            ? Assemble(parts.Select(p => p.Part).ToList())
            : null;

    private static VolumeGroupSnapshot Assemble(IReadOnlyList<GroupPart> parts) => new()
    {
        GroupSnapshotId = parts[0].Snapshots.Count > 0
            ? parts[0].Snapshots[0].GroupSnapshotId
            : RoutedId.On(new ObjectId(ObjectKind.Group, Guid.Parse(parts[0].GroupUuid)), parts[0].Nodes[0]).ToString(),
        CreationTime = parts.Select(p => p.CreationTime).Min(),
        ReadyToUse = true,
        Snapshots = { parts.SelectMany(p => p.Snapshots) },
    };

    /// <summary>Each node's part under <paramref name="reference"/>, asked at once; a node out of reach fails the whole.</summary>
    private async Task<List<(AgentAddress Agent, GroupPart Part)>> ReadAsync(IReadOnlyList<AgentAddress> agents,
        GroupPartRef reference, CancellationToken cancellationToken)
    {
        var parts = await EachAsync(agents, (agent, _, token) => Call(agent, (c, o) => c.GetGroupPartAsync(reference, o).ResponseAsync, token),
            cancellationToken).ConfigureAwait(false);
        return agents.Zip(parts).ToList();
    }

    /// <summary>
    /// Aborts each part (every one tried); the first node's last when <paramref name="homeLast"/>. A failure is thrown
    /// after all were tried, unless <paramref name="quietly"/> (an abort after a failure: parts left prepared end
    /// with their lease, and a retry by name discards whatever is left).
    /// </summary>
    private async Task AbortAsync(IEnumerable<(AgentAddress Agent, GroupPartRef Reference)> parts, CancellationToken cancellationToken,
        bool quietly = false, bool homeLast = false)
    {
        var list = parts.OrderBy(p => p.Agent.NodeId, StringComparer.Ordinal).ToList();
        var last = homeLast && list.Count > 1 ? list[0] : default;
        var first = homeLast && list.Count > 1 ? list.Skip(1).ToList() : list;
        try
        {
            await EachAsync(first.Select(p => p.Agent).ToList(), (agent, i, token) =>
                Call(agent, (c, o) => c.AbortGroupPartAsync(first[i].Reference, o).ResponseAsync, token), cancellationToken).ConfigureAwait(false);
            if (last.Agent is { } home)
            {
                await Call(home, (c, o) => c.AbortGroupPartAsync(last.Reference, o).ResponseAsync, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (quietly && e is LoopvolException or RpcException)
        {
            // See above: nothing of a failed group is ever reported ready.
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> on every agent at once. The first failure cancels the steps still running and is
    /// thrown once all have ended, naming its node: an agent's own answer keeps its status code, an agent out of reach
    /// is UNAVAILABLE. Steps cut off by <paramref name="cancellationToken"/> alone end in <paramref name="cutOff"/>
    /// when one is given.
    /// </summary>
    private static async Task<T[]> EachAsync<T>(IReadOnlyList<AgentAddress> agents, Func<AgentAddress, int, CancellationToken, Task<T>> step,
        CancellationToken cancellationToken, Func<string, Exception>? cutOff = null)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task<T> Guarded(AgentAddress agent, int i)
        {
            try
            {
                return await step(agent, i, failed.Token).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }
        var tasks = agents.Select(Guarded).ToList();
        try
        {
            return await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            static bool Cut(Exception? e) =>
                e is null or OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled or StatusCode.DeadlineExceeded };
            var failures = agents.Zip(tasks).Where(t => t.Second.IsFaulted || t.Second.IsCanceled)
                .Select(t => (Node: t.First.NodeId, Error: t.Second.Exception?.InnerException)).ToList();
            var (node, failure) = failures.FirstOrDefault(f => !Cut(f.Error)) is { Node: not null } own ? own : failures[0];
            throw (failure, Cut(failure)) switch
            {
                (_, true) when cutOff is not null => cutOff(node),
                (RpcException e, _) => new RpcException(new Status(e.StatusCode, $"node {node}: {e.Status.Detail}")),
                (null, _) => new OperationCanceledException(cancellationToken),
                _ => failure,
            };
        }
    }

    private Task<T> Call<T>(AgentAddress agent, Func<AgentClient, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        forward.StepAsync(agent, (channel, options) => call(new AgentClient(channel), options), cancellationToken);

    private static GroupPartRef Ref(GroupPart part) => new() { GroupUuid = part.GroupUuid };

    private static string Untagged(string id) => RoutedId.TryParse(id, ObjectKind.Volume, out var routed) ? routed.Value.Id.ToString() : id;
}
