using System.Diagnostics;
using Grpc.Core;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// SIGKILL of the controller, or of one of three node agents, at every step of a group snapshot across the three
/// nodes, including while their file systems are frozen: every file system is writable again within the lease (an
/// agent killed while frozen is restarted, as its DaemonSet would, and thaws at start), the retry by name returns a
/// complete group, and no node keeps anything of the attempts that failed.
/// </summary>
[NonParallelizable]
public sealed class GroupsAcrossNodesCrashTests
{
    private const int Killed = 128 + 9;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [SetUp]
    public void RequireRoot() => Privileged.Require();

    [TearDown]
    public void NothingLeft() => HostLeaks.AssertNone();

    [TestCase("group.checked")]
    [TestCase("group.prepared")]
    [TestCase("group.committed-one")]
    [TestCase("group.committed")]
    public Task ControllerKilledAt(string point) => KilledAtAsync(victim: null, point);

    [TestCase(0, "group-part.reserved")]
    [TestCase(0, "group-part.frozen")]
    [TestCase(0, "group-part.member-copied")]
    [TestCase(0, "group-part.thawed")]
    [TestCase(1, "group-part.reserved")]
    [TestCase(1, "group-part.frozen")]
    [TestCase(1, "group-part.member-copied")]
    [TestCase(1, "group-part.thawed")]
    [TestCase(2, "group-part.reserved")]
    [TestCase(2, "group-part.frozen")]
    [TestCase(2, "group-part.member-copied")]
    [TestCase(2, "group-part.thawed")]
    public Task AgentKilledAt(int agent, string point) => KilledAtAsync(agent, point);

    [TestCase(0)]
    [TestCase(2)]
    public async Task DeleteAndGet_WhileANodeIsDown_AreUnavailable_NothingIsDeleted_AndTheDeleteFinishesOnceItIsBack(int down)
    {
        await using var cluster = await ClusterProcesses.StartAsync(3, "--max-freeze", $"{Lease.TotalSeconds}");
        using var kubelet = new TempDirectory();
        var volumes = await CreateAndStageAsync(cluster, kubelet);
        try
        {
            var group = await RetryAsync(cluster, new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { volumes.Select(v => v.Id) } });
            var delete = new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { group.Snapshots.Select(s => s.SnapshotId) } };
            await cluster.StopAgentAsync(down);
            using (var client = cluster.Client())
            {
                var refused = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<DeleteVolumeGroupSnapshotResponse>("GroupController",
                    "DeleteVolumeGroupSnapshot", delete));
                var unread = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<GetVolumeGroupSnapshotResponse>("GroupController",
                    "GetVolumeGroupSnapshot", new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }));
                Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.Unavailable), refused.Status.Detail);
                Assert.That(unread!.StatusCode, Is.EqualTo(StatusCode.Unavailable), unread.Status.Detail);
            }
            await cluster.StartAgentAsync(down);
            var kept = await WithRetriesAsync(cluster, c => c.UnaryAsync<GetVolumeGroupSnapshotResponse>("GroupController", "GetVolumeGroupSnapshot",
                new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId }));
            Assert.That(kept.GroupSnapshot.Snapshots, Has.Count.EqualTo(3), "nothing was deleted while the node was down");
            await WithRetriesAsync(cluster, c => c.UnaryAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot", delete));
            await WithRetriesAsync(cluster, c => c.UnaryAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot", delete));
        }
        finally
        {
            await UnstageAsync(cluster, volumes);
        }
        for (var i = 0; i < 3; i++)
        {
            CrashTests.AssertClean(cluster.AgentData(i), images: 1);
        }
    }

    /// <summary>Makes a volume on each node through the controller and stages it there (ext4).</summary>
    private static async Task<List<(string Id, string Staging)>> CreateAndStageAsync(ClusterProcesses cluster, TempDirectory kubelet)
    {
        var volumes = new List<(string Id, string Staging)>();
        using var client = cluster.Client();
        for (var i = 0; i < 3; i++)
        {
            var id = (await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
            {
                Name = $"pvc-{i}",
                CapacityRange = new CapacityRange { RequiredBytes = 16 << 20 },
                VolumeCapabilities = { ControllerFixture.Mount("ext4") },
                AccessibilityRequirements = new TopologyRequirement { Preferred = { NodeTopology.Of(ClusterProcesses.NodeIds[i]) } },
            })).Volume.VolumeId;
            volumes.Add((id, Directory.CreateDirectory(kubelet.Combine($"s{i}")).FullName));
            await NodeCallAsync<NodeStageVolumeResponse>(cluster, i, "NodeStageVolume", new NodeStageVolumeRequest
            {
                VolumeId = id, StagingTargetPath = volumes[i].Staging, VolumeCapability = ControllerFixture.Mount("ext4"),
            });
        }
        return volumes;
    }

    /// <summary>Unstages every volume on its node, then stops every process.</summary>
    private static async Task UnstageAsync(ClusterProcesses cluster, List<(string Id, string Staging)> volumes)
    {
        for (var i = 0; i < volumes.Count; i++)
        {
            await NodeCallAsync<NodeUnstageVolumeResponse>(cluster, i, "NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volumes[i].Id, StagingTargetPath = volumes[i].Staging });
        }
        await cluster.StopAllAsync();
    }

    private static async Task KilledAtAsync(int? victim, string point)
    {
        await using var cluster = await ClusterProcesses.StartAsync(3, "--max-freeze", $"{Lease.TotalSeconds}");
        using var kubelet = new TempDirectory();
        var volumes = await CreateAndStageAsync(cluster, kubelet);
        try
        {
            if (victim is { } agent)
            {
                await cluster.StartAgentAsync(agent, crashAt: point);
            }
            else
            {
                await cluster.StartControllerAsync(crashAt: point);
            }
            var request = new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { volumes.Select(v => v.Id) } };
            using (var client = cluster.Client())
            {
                Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<CreateVolumeGroupSnapshotResponse>("GroupController",
                    "CreateVolumeGroupSnapshot", request), "the attempt fails with its victim");
            }
            var process = victim is { } v ? cluster.Agent(v) : cluster.Controller!;
            Assert.That(await process.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(Killed), process.Output);
            var clock = Stopwatch.StartNew();
            if (victim is { } restarted)
            {
                await cluster.StartAgentAsync(restarted);
            }
            else
            {
                await cluster.StartControllerAsync();
            }

            await Task.WhenAll(volumes.Select((v, i) => Task.Run(() => File.WriteAllText(Path.Combine(v.Staging, "after"), $"{i}")))
                .ToList()).WaitAsync(Lease + TimeSpan.FromSeconds(10));
            var writable = clock.Elapsed;
            var group = await RetryAsync(cluster, request);
            var again = await RetryAsync(cluster, request);

            Assert.That(writable, Is.LessThan(Lease + TimeSpan.FromSeconds(5)), "every file system writable again within the lease");
            Assert.That(group.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(volumes.Select(v => v.Id)), "a complete group");
            Assert.That(group.ReadyToUse, Is.True);
            Assert.That(again.GroupSnapshotId, Is.EqualTo(group.GroupSnapshotId));
            for (var i = 0; i < 3; i++)
            {
                Assert.That(group.Snapshots.Single(s => s.SourceVolumeId == volumes[i].Id).SnapshotId, Does.EndWith($".{ClusterProcesses.NodeIds[i]}"));
            }
        }
        finally
        {
            await UnstageAsync(cluster, volumes);
        }
        for (var i = 0; i < 3; i++)
        {
            AssertOneGroupAndNothingElse(cluster.AgentData(i));
        }
    }

    /// <summary>The node keeps its volume, one member snapshot and the one group: no part of a failed attempt.</summary>
    private static void AssertOneGroupAndNothingElse(string data)
    {
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        Assert.That(JournalAudit.Check(journal, new PoolInventory(layout), DateTimeOffset.UtcNow, TimeSpan.Zero), Is.Empty);
        var records = journal.All();
        Assert.That(records.Select(r => r.Id.Kind), Is.EquivalentTo(new[] { ObjectKind.Volume, ObjectKind.Snapshot, ObjectKind.Group }),
            string.Join(", ", records.Select(r => $"{r.Id} {r.State}")));
        Assert.That(records.Select(r => r.State), Has.All.EqualTo(ReservationState.Created));
        Assert.That(new PoolInventory(layout).BackendNames(), Has.Count.EqualTo(2), "the volume's image and its member's");
        Assert.That(Directory.GetFiles(layout.IncomingDirectory), Is.Empty);
    }

    private static async Task<VolumeGroupSnapshot> RetryAsync(ClusterProcesses cluster, CreateVolumeGroupSnapshotRequest request) =>
        (await WithRetriesAsync(cluster, c => c.UnaryAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            request))).GroupSnapshot;

    /// <summary>A call as external-snapshotter makes it: an answer that says try again is tried again, for at most 30 s.</summary>
    private static async Task<T> WithRetriesAsync<T>(ClusterProcesses cluster, Func<CsiClient, Task<T>> call)
    {
        using var client = cluster.Client();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(client);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Aborted && attempt < 60)
            {
                await Task.Delay(500);
            }
        }
    }

    private static async Task<T> NodeCallAsync<T>(ClusterProcesses cluster, int node, string method, Google.Protobuf.IMessage request)
        where T : class, Google.Protobuf.IMessage<T>, new()
    {
        using var client = new CsiClient(cluster.Agent(node).Endpoint);
        return await client.UnaryAsync<T>("Node", method, request);
    }
}
