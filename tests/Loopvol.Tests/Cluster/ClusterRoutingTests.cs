using Grpc.Core;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Tests.Controller;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// The central controller over three real node agents (<see cref="ThreeNodes"/>): every create lands on the node
/// asked for and its ID names that node, restores and clones stay with their source, names are unique across nodes,
/// capacity is per node, and the controller's answers are the agents' own.
/// </summary>
public sealed class ClusterRoutingTests
{
    [Test]
    public async Task CreatesLandOnTheNodeAskedFor_RestoresAndClonesStayWithTheirSource()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var made = new List<Volume>();
        foreach (var (i, node) in ThreeNodes.NodeIds.Index())
        {
            made.Add(await CreateAsync(cluster, $"pvc-{i}", Preferring(node)));
        }
        var snapshot = (await cluster.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-b", SourceVolumeId = made[1].VolumeId })).Snapshot;
        var restored = await CreateAsync(cluster, "pvc-restored", Preferring("node-a", "node-b"),
            new VolumeContentSource { Snapshot = new() { SnapshotId = snapshot.SnapshotId } });
        var clone = await CreateAsync(cluster, "pvc-clone", null, new VolumeContentSource { Volume = new() { VolumeId = made[2].VolumeId } });
        var again = await CreateAsync(cluster, "pvc-0", Preferring("node-a"));
        var reused = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, "pvc-0", Preferring("node-c"), size: 32 << 20));
        var snapshotReused = Assert.ThrowsAsync<RpcException>(() => cluster.CallAsync<CreateSnapshotResponse>("Controller",
            "CreateSnapshot", new CreateSnapshotRequest { Name = "snap-b", SourceVolumeId = made[0].VolumeId }));
        var nowhere = Assert.ThrowsAsync<RpcException>(() => CreateAsync(cluster, "pvc-nowhere", Preferring("node-x")));

        Assert.That(made.Select(v => v.VolumeId[(v.VolumeId.IndexOf('.', StringComparison.Ordinal) + 1)..]),
            Is.EqualTo(ThreeNodes.NodeIds), "each ID names its node");
        foreach (var (i, volume) in made.Index())
        {
            Assert.That(volume.AccessibleTopology.Single().Segments[NodeTopology.NodeKey], Is.EqualTo(ThreeNodes.NodeIds[i]));
            Assert.That(Holders(cluster, volume.VolumeId), Is.EqualTo(new[] { i }), "only the node asked for holds it");
        }
        Assert.That(snapshot.SnapshotId, Does.EndWith(".node-b"));
        Assert.That(snapshot.SourceVolumeId, Is.EqualTo(made[1].VolumeId), "the source as the CO knows it, tag and all");
        Assert.That(restored.VolumeId, Does.EndWith(".node-b"), "a restore stays with its snapshot, preferred or not");
        Assert.That(Holders(cluster, restored.VolumeId), Is.EqualTo(new[] { 1 }));
        Assert.That(clone.VolumeId, Does.EndWith(".node-c"), "a clone stays with its source");
        Assert.That(again.VolumeId, Is.EqualTo(made[0].VolumeId), "a retry by name is the same volume");
        Assert.That(reused!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists), "a name is one volume on the whole cluster");
        Assert.That(snapshotReused!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists), snapshotReused.Status.Detail);
        Assert.That(nowhere!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted), nowhere.Status.Detail);
        Assert.That(Holders(cluster, "pvc-nowhere"), Is.Empty);
    }

    [Test]
    public async Task Capacity_IsPerNodeForATopology_AndTheSumWithout()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var perNode = new List<long>();
        foreach (var node in ThreeNodes.NodeIds)
        {
            perNode.Add((await cluster.CallAsync<GetCapacityResponse>("Controller", "GetCapacity",
                new GetCapacityRequest { AccessibleTopology = NodeTopology.Of(node) })).AvailableCapacity);
        }
        var elsewhere = await cluster.CallAsync<GetCapacityResponse>("Controller", "GetCapacity",
            new GetCapacityRequest { AccessibleTopology = NodeTopology.Of("node-x") });
        var all = await cluster.CallAsync<GetCapacityResponse>("Controller", "GetCapacity", new GetCapacityRequest());

        Assert.That(perNode, Has.All.GreaterThan(0));
        Assert.That(perNode[0], Is.EqualTo(cluster.Node(0).Driver.Pool.AvailableBytes()).Within(1 << 20));
        Assert.That(elsewhere.AvailableCapacity, Is.Zero, "no agent on that node: nothing can be made there");
        Assert.That(all.AvailableCapacity, Is.EqualTo(perNode.Sum()).Within(3 << 20));
    }

    [Test]
    public async Task GroupSnapshot_OfOneNodesVolumes_IsMadeThere()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var b1 = await CreateAsync(cluster, "pvc-b1", Preferring("node-b"));
        var b2 = await CreateAsync(cluster, "pvc-b2", Preferring("node-b"));

        var group = (await cluster.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-b", SourceVolumeIds = { b1.VolumeId, b2.VolumeId } })).GroupSnapshot;
        var fetched = await cluster.CallAsync<GetVolumeGroupSnapshotResponse>("GroupController", "GetVolumeGroupSnapshot",
            new GetVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId });
        await cluster.CallAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot",
            new DeleteVolumeGroupSnapshotRequest
            {
                GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { group.Snapshots.Select(s => s.SnapshotId) },
            });

        Assert.That(group.GroupSnapshotId, Does.EndWith(".node-b"));
        Assert.That(group.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(new[] { b1.VolumeId, b2.VolumeId }));
        Assert.That(group.Snapshots.Select(s => s.SnapshotId), Has.All.EndWith(".node-b"));
        Assert.That(fetched.GroupSnapshot.GroupSnapshotId, Is.EqualTo(group.GroupSnapshotId));
        Assert.That(Holders(cluster, "group-bc"), Is.Empty, "nothing was made for the refused group");
        Assert.That(Holders(cluster, "group-b"), Is.Empty, "the group's delete reached its node");
    }

    internal static TopologyRequirement Preferring(params string[] nodes) => new()
    {
        Preferred = { nodes.Select(NodeTopology.Of) },
        Requisite = { nodes.Select(NodeTopology.Of) },
    };

    internal static async Task<Volume> CreateAsync(ThreeNodes cluster, string name, TopologyRequirement? topology,
        VolumeContentSource? source = null, long size = 16 << 20) =>
        (await cluster.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = size },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
            AccessibilityRequirements = topology,
            VolumeContentSource = source,
        })).Volume;

    /// <summary>The nodes whose pool holds <paramref name="idOrName"/>, a tagged ID or a request name of any kind.</summary>
    internal static IReadOnlyList<int> Holders(ThreeNodes cluster, string idOrName) =>
        Enumerable.Range(0, ThreeNodes.NodeIds.Length).Where(i => cluster.Node(i).Driver.Pool is var pool &&
            (Enum.GetValues<ObjectKind>().Any(k => pool.HoldsName(k, idOrName)) ||
             Enum.GetValues<ObjectKind>().Any(k => RoutedId.TryParse(idOrName, k, out var id) && pool.Holds(id.Value.Id)))).ToList();
}
