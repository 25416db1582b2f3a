using Grpc.Core;
using Loopvol.Agent.V1;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Tests.Groups;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Group snapshots whose members live on three nodes, made by the controller in two phases (docs/cluster.md): one
/// group ID, every node's members, all or nothing, and the lease kept by each agent on its own.
/// </summary>
[NonParallelizable]
public sealed class GroupsAcrossNodesTests
{
    [SetUp]
    public void RequireRoot() => Privileged.Require();

    [TearDown]
    public void NothingLeft() => HostLeaks.AssertNone();

    [Test]
    public async Task OneGroupOverThreeNodes_RetriedIsTheSame_ReusedIsAlreadyExists_GetAndDeleteSpanEveryNode()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        await using (var volumes = await StagedAcrossNodes.CreateAsync(cluster, 0, 1, 2))
        {
            var request = new CreateVolumeGroupSnapshotRequest { Name = "group-abc", SourceVolumeIds = { volumes.Ids } };
            var group = (await CreateAsync(cluster, request)).GroupSnapshot;
            var again = (await CreateAsync(cluster, request)).GroupSnapshot;
            var reused = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster,
                new CreateVolumeGroupSnapshotRequest { Name = "group-abc", SourceVolumeIds = { volumes.Ids[0], volumes.Ids[1] } }));
            var fetched = (await cluster.CallAsync<GetVolumeGroupSnapshotResponse>("GroupController", "GetVolumeGroupSnapshot",
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId })).GroupSnapshot;
            var listed = await cluster.CallAsync<ListSnapshotsResponse>("Controller", "ListSnapshots", new ListSnapshotsRequest());
            var partial = Assert.ThrowsAsync<RpcException>(() => DeleteAsync(cluster, group.GroupSnapshotId, group.Snapshots.Take(2)));

            Assert.That(group.GroupSnapshotId, Does.StartWith("group-").And.EndWith(".node-a"), "the first node's tag names the group");
            Assert.That(group.ReadyToUse, Is.True);
            Assert.That(group.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(volumes.Ids));
            foreach (var snapshot in group.Snapshots)
            {
                var node = ThreeNodes.NodeIds[volumes.Nodes[volumes.Ids.IndexOf(snapshot.SourceVolumeId)]];
                Assert.That(snapshot.SnapshotId, Does.EndWith($".{node}"), "each member lives with its source");
                Assert.That(snapshot.GroupSnapshotId, Is.EqualTo(group.GroupSnapshotId));
                Assert.That(File.Exists(volumes.ImageOf(snapshot)), Is.True);
            }
            Assert.That(again.GroupSnapshotId, Is.EqualTo(group.GroupSnapshotId));
            Assert.That(again.Snapshots.Select(s => s.SnapshotId), Is.EquivalentTo(group.Snapshots.Select(s => s.SnapshotId)));
            Assert.That(reused!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists), reused.Status.Detail);
            Assert.That(fetched.Snapshots.Select(s => s.SnapshotId), Is.EquivalentTo(group.Snapshots.Select(s => s.SnapshotId)));
            var members = listed.Entries.Select(e => e.Snapshot).Where(s => group.Snapshots.Any(m => m.SnapshotId == s.SnapshotId)).ToList();
            Assert.That(members, Has.Count.EqualTo(3), "every node lists its member");
            Assert.That(members.Select(m => m.GroupSnapshotId), Has.All.EqualTo(group.GroupSnapshotId), "each names the group by its ID");
            Assert.That(partial!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(partial.Status.Detail, Does.Contain("snapshot_ids"));

            await DeleteAsync(cluster, group.GroupSnapshotId, group.Snapshots);
            await DeleteAsync(cluster, group.GroupSnapshotId, group.Snapshots);
            var gone = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<GetVolumeGroupSnapshotResponse>("GroupController",
                "GetVolumeGroupSnapshot", new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }));
            Assert.That(gone!.StatusCode, Is.EqualTo(StatusCode.NotFound));
            Assert.That(group.Snapshots.Select(volumes.ImageOf).Where(File.Exists), Is.Empty, "every member's image is gone, on every node");
            AssertNoGroupRecords(cluster);
        }
    }

    [Test]
    public async Task AMemberOneNodeRefuses_AbortsTheWholeGroup_NamingThatNode_AndLeavesNothingAnywhere()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        await using var volumes = await StagedAcrossNodes.CreateAsync(cluster, 0, 1, 2);
        // Node c holds the name already, for a group of its own volume alone.
        var own = (await CreateAsync(cluster, new CreateVolumeGroupSnapshotRequest { Name = "taken", SourceVolumeIds = { volumes.Ids[2] } }))
            .GroupSnapshot;
        var taken = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster,
            new CreateVolumeGroupSnapshotRequest { Name = "taken", SourceVolumeIds = { volumes.Ids } }));
        // A member tagged for node c, which holds no such volume: c refuses, and a's prepared part is aborted.
        var doomed = await ClusterRoutingTests.CreateAsync(cluster, "pvc-doomed", ClusterRoutingTests.Preferring("node-b"));
        var refused = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, new CreateVolumeGroupSnapshotRequest
        {
            Name = "with-a-stranger", SourceVolumeIds = { volumes.Ids[0], doomed.VolumeId.Replace(".node-b", ".node-c", StringComparison.Ordinal) },
        }));

        Assert.That(taken!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(taken.Status.Detail, Does.Contain("node-c"));
        Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.NotFound), refused.Status.Detail);
        Assert.That(refused.Status.Detail, Does.Contain("node node-c"), "the node that refused is named");
        await DeleteAsync(cluster, own.GroupSnapshotId, own.Snapshots);
        AssertNoGroupRecords(cluster);
    }

    [Test]
    public async Task AControllerThatNeverCommits_TheAgentThawsAtTheEndOfItsLease_AndDiscardsItsPart()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        await using var volumes = await StagedAcrossNodes.CreateAsync(cluster, 1);
        using var dir = new TempDirectory();
        using var material = cluster.Ca.Write(dir.Path, "client", cluster.Ca.Client(), cluster.Ca).Load();
        using var channel = CsiChannel.Create(cluster.AgentEndpoint(1), material, serverName: ThreeNodes.ServerName);
        var agent = new Agent.V1.Agent.AgentClient(channel);
        var uuid = Guid.NewGuid().ToString("D");
        var lease = TimeSpan.FromSeconds(2);

        var prepared = await agent.PrepareGroupPartAsync(new PrepareGroupPartRequest
        {
            Name = "abandoned", GroupUuid = uuid, SourceVolumeIds = { volumes.Ids }, MemberVolumeIds = { volumes.Ids },
            Nodes = { "node-b", "node-c" }, LeaseMs = (uint)lease.TotalMilliseconds,
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var write = Task.Run(() => File.WriteAllText(Path.Combine(volumes.Staging[0], "after"), "x"));
        var blocked = !write.Wait(TimeSpan.FromMilliseconds(500));
        await write.WaitAsync(TimeSpan.FromSeconds(30));
        var unblockedAfter = clock.Elapsed;
        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the discard follows the thaw
        var afterwards = await agent.GetGroupPartAsync(new GroupPartRef { GroupUuid = uuid });
        var late = Assert.ThrowsAsync<RpcException>(async () => await agent.CommitGroupPartAsync(new GroupPartRef { GroupUuid = uuid }));

        Assert.That(prepared.State, Is.EqualTo(GroupPart.Types.State.Prepared));
        Assert.That(blocked, Is.True, "the member's file system was frozen");
        Assert.That(unblockedAfter, Is.LessThan(lease + TimeSpan.FromSeconds(5)), "thawed by the agent at the end of its lease");
        Assert.That(afterwards.State, Is.EqualTo(GroupPart.Types.State.Absent), "the part was discarded");
        Assert.That(late!.StatusCode, Is.EqualTo(StatusCode.Aborted));
        AssertNoGroupRecords(cluster);
    }

    [Test]
    public async Task AGroupThatNeverBecameComplete_IsDiscardedEverywhereByTheSweep_ACompleteOneIsLeftAlone()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        await using var volumes = await StagedAcrossNodes.CreateAsync(cluster, 0, 1);
        var whole = (await CreateAsync(cluster, new CreateVolumeGroupSnapshotRequest { Name = "whole", SourceVolumeIds = { volumes.Ids } }))
            .GroupSnapshot;
        // A create cut short, as a controller killed between its commits leaves it: node a committed, node b prepared.
        using var dir = new TempDirectory();
        using var material = cluster.Ca.Write(dir.Path, "client", cluster.Ca.Client(), cluster.Ca).Load();
        using var toA = CsiChannel.Create(cluster.AgentEndpoint(0), material, serverName: ThreeNodes.ServerName);
        using var toB = CsiChannel.Create(cluster.AgentEndpoint(1), material, serverName: ThreeNodes.ServerName);
        var uuid = Guid.NewGuid().ToString("D");
        foreach (var (channel, member) in new[] { (toA, volumes.Ids[0]), (toB, volumes.Ids[1]) })
        {
            await new Agent.V1.Agent.AgentClient(channel).PrepareGroupPartAsync(new PrepareGroupPartRequest
            {
                Name = "cut-short", GroupUuid = uuid, SourceVolumeIds = { volumes.Ids }, MemberVolumeIds = { member },
                Nodes = { "node-a", "node-b" }, LeaseMs = 10_000,
            });
        }
        var committed = await new Agent.V1.Agent.AgentClient(toA).CommitGroupPartAsync(new GroupPartRef { GroupUuid = uuid });

        var young = await cluster.Controller.SweepGroupsAsync(TimeSpan.FromMinutes(5));
        var discarded = await cluster.Controller.SweepGroupsAsync(TimeSpan.Zero);
        var again = await cluster.Controller.SweepGroupsAsync(TimeSpan.Zero);
        var kept = (await cluster.CallAsync<GetVolumeGroupSnapshotResponse>("GroupController", "GetVolumeGroupSnapshot",
            new GetVolumeGroupSnapshotRequest { GroupSnapshotId = whole.GroupSnapshotId })).GroupSnapshot;

        Assert.That(committed.State, Is.EqualTo(GroupPart.Types.State.Committed));
        Assert.That(young, Is.Zero, "parts younger than asked are left to the create that may still be making them");
        Assert.That(discarded, Is.EqualTo(1));
        Assert.That(again, Is.Zero);
        Assert.That(kept.Snapshots.Select(m => m.SnapshotId), Is.EquivalentTo(whole.Snapshots.Select(m => m.SnapshotId)), "the complete group is untouched");
        for (var i = 0; i < 2; i++)
        {
            Assert.That(cluster.Node(i).Driver.Journal.Find(Core.Ids.ObjectKind.Group, "cut-short"), Is.Null, $"{ThreeNodes.NodeIds[i]} kept nothing of it");
            Assert.That(cluster.Node(i).Driver.Journal.All(Core.Ids.ObjectKind.Snapshot).Count(Held), Is.EqualTo(1), "only the whole group's member");
        }
        await File.WriteAllTextAsync(Path.Combine(volumes.Staging[1], "thawed"), "node b's prepared part was released");
        await DeleteAsync(cluster, whole.GroupSnapshotId, whole.Snapshots);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task HundredGroupsUnderLoad_AcrossThreeNodes_AreEachAStateTheWriterPassedThrough_OnlyWithFreezes(bool freeze)
    {
        const int snapshots = 100;
        await using var cluster = await ThreeNodes.StartAsync((_, s) => s with { FreezeGroups = freeze });
        await using var volumes = await StagedAcrossNodes.CreateAsync(cluster, 0, 1, 2);
        var seen = new List<long[]>();
        var writer = new CounterWriter(volumes.Staging.Select(s => Path.Combine(s, "counter")).ToList());
        await using (writer)
        {
            for (var i = 0; i < snapshots && (freeze || seen.All(CounterWriter.Consistent)); i++)
            {
                var group = (await CreateAsync(cluster, new CreateVolumeGroupSnapshotRequest { Name = $"g-{i}", SourceVolumeIds = { volumes.Ids } }))
                    .GroupSnapshot;
                var bySource = group.Snapshots.ToDictionary(s => s.SourceVolumeId);
                var counters = new long[volumes.Ids.Count];
                for (var v = 0; v < counters.Length; v++)
                {
                    counters[v] = await CounterWriter.ReadAsync(volumes.ImageOf(bySource[volumes.Ids[v]]), replay: !freeze);
                }
                seen.Add(counters);
                await DeleteAsync(cluster, group.GroupSnapshotId, group.Snapshots);
            }
        }

        var broken = seen.Where(s => !CounterWriter.Consistent(s)).Select(s => string.Join(",", s)).ToList();
        if (freeze)
        {
            Assert.That(seen, Has.Count.EqualTo(snapshots));
            Assert.That(broken, Is.Empty, $"states no writer passed through: {string.Join("; ", broken.Take(5))}");
            Assert.That(seen.Select(s => s[0]).Distinct().Count(), Is.GreaterThan(snapshots / 4),
                $"the writer must really have been writing during the snapshots (it reached {writer.Written})");
        }
        else
        {
            Assert.That(broken, Is.Not.Empty, $"without freezes some group shows a state no writer passed through ({seen.Count} taken)");
        }
        AssertNoGroupRecords(cluster);
    }

    private static Task<CreateVolumeGroupSnapshotResponse> CreateAsync(ThreeNodes cluster, CreateVolumeGroupSnapshotRequest request) =>
        cluster.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot", request);

    private static Task<DeleteVolumeGroupSnapshotResponse> DeleteAsync(ThreeNodes cluster, string id, IEnumerable<Snapshot> members) =>
        cluster.CallAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot",
            new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = id, SnapshotIds = { members.Select(m => m.SnapshotId) } });

    private static bool Held(Loopvol.Journal.Model.Reservation r) => r.State != Loopvol.Journal.Model.ReservationState.Deleting;

    /// <summary>No node's journal holds a group, or a snapshot, any longer (one being deleted is gone for every caller).</summary>
    private static void AssertNoGroupRecords(ThreeNodes cluster)
    {
        for (var i = 0; i < ThreeNodes.NodeIds.Length; i++)
        {
            var journal = cluster.Node(i).Driver.Journal;
            Assert.That(journal.All(Core.Ids.ObjectKind.Group).Where(Held), Is.Empty, $"{ThreeNodes.NodeIds[i]} holds no group");
            Assert.That(journal.All(Core.Ids.ObjectKind.Snapshot).Where(Held), Is.Empty, $"{ThreeNodes.NodeIds[i]} holds no snapshot");
        }
    }
}
