using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Pool.Extents;
using Loopvol.Tests.ChangedBlocks;
using Loopvol.Tests.Controller;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// SnapshotMetadata through the central controller (<see cref="ThreeNodes"/>): each stream comes from the node that
/// owns the snapshots, exactly as that node's agent answers it; snapshots of two nodes are refused.
/// </summary>
public sealed class ClusterSnapshotMetadataTests
{
    private const long MiB = 1 << 20;

    [Test]
    public async Task Streams_ComeFromTheOwningNode_AsTheAgentAnswers_AndSnapshotsOfTwoNodes_AreInvalid()
    {
        await using var cluster = await ThreeNodes.StartAsync();
        var (first, second, volumeB) = await TwoSnapshotsOnAsync(cluster, "node-b");
        var (elsewhere, _, _) = await TwoSnapshotsOnAsync(cluster, "node-c");

        var delta = await cluster.Client.ServerStreamingAsync<GetMetadataDeltaResponse>("SnapshotMetadata", "GetMetadataDelta",
            new GetMetadataDeltaRequest { BaseSnapshotId = first.SnapshotId, TargetSnapshotId = second.SnapshotId, MaxResults = 2 });
        var allocated = await cluster.Client.ServerStreamingAsync<GetMetadataAllocatedResponse>("SnapshotMetadata",
            "GetMetadataAllocated", new GetMetadataAllocatedRequest { SnapshotId = second.SnapshotId, MaxResults = 3 });
        var twoNodes = Assert.ThrowsAsync<RpcException>(() => cluster.Client.ServerStreamingAsync<GetMetadataDeltaResponse>(
            "SnapshotMetadata", "GetMetadataDelta",
            new GetMetadataDeltaRequest { BaseSnapshotId = first.SnapshotId, TargetSnapshotId = elsewhere.SnapshotId }));
        var unknown = Assert.ThrowsAsync<RpcException>(() => cluster.Client.ServerStreamingAsync<GetMetadataDeltaResponse>(
            "SnapshotMetadata", "GetMetadataDelta", new GetMetadataDeltaRequest
            {
                BaseSnapshotId = first.SnapshotId, TargetSnapshotId = "snap-00000000-0000-4000-8000-000000000000.node-b",
            }));
        var missing = Assert.ThrowsAsync<RpcException>(() => cluster.Client.ServerStreamingAsync<GetMetadataAllocatedResponse>(
            "SnapshotMetadata", "GetMetadataAllocated", new GetMetadataAllocatedRequest()));

        var image = (string id) => Path.Combine(cluster.Node(1).Settings.PoolDirectory, id[..id.IndexOf('.', StringComparison.Ordinal)] + ".img");
        var expected = MetadataWorkload.DifferingBlocks(image(first.SnapshotId), image(second.SnapshotId), second.SizeBytes);
        Assert.That(delta.SelectMany(m => m.BlockMetadata).Select(b => new BlockRange(b.ByteOffset, b.SizeBytes)), Is.EqualTo(expected));
        Assert.That(delta.Select(m => m.BlockMetadata.Count), Has.All.InRange(1, 2));
        Assert.That(allocated.SelectMany(m => m.BlockMetadata).Select(b => new BlockRange(b.ByteOffset, b.SizeBytes)),
            Is.EqualTo(MetadataWorkload.SeekData(image(second.SnapshotId), second.SizeBytes)));
        Assert.That(twoNodes!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), twoNodes.Status.Detail);
        Assert.That(unknown!.StatusCode, Is.EqualTo(StatusCode.NotFound), unknown.Status.Detail);
        Assert.That(unknown.Status.Detail, Does.Contain("target_snapshot_id"));
        Assert.That(missing!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), missing.Status.Detail);
        Assert.That(volumeB.VolumeId, Does.EndWith(".node-b"));
    }

    private static async Task<(Snapshot First, Snapshot Second, Volume Volume)> TwoSnapshotsOnAsync(ThreeNodes cluster, string node)
    {
        var volume = (await cluster.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = $"pvc-{node}",
            CapacityRange = new CapacityRange { RequiredBytes = 16 * MiB },
            VolumeCapabilities = { ControllerFixture.Mount() },
            AccessibilityRequirements = new TopologyRequirement
            {
                Preferred = { new Topology { Segments = { [Loopvol.Csi.Validation.NodeTopology.NodeKey] = node } } },
            },
        })).Volume;
        var index = Array.IndexOf(ThreeNodes.NodeIds, node);
        var random = new Random(index);
        var path = Path.Combine(cluster.Node(index).Settings.PoolDirectory,
            volume.VolumeId[..volume.VolumeId.IndexOf('.', StringComparison.Ordinal)] + ".img");
        MetadataWorkload.WriteRandom(path, random, 20, 16 * MiB);
        var first = await SnapshotAsync(cluster, $"snap-{node}-a", volume.VolumeId);
        MetadataWorkload.WriteRandom(path, random, 10, 16 * MiB);
        var second = await SnapshotAsync(cluster, $"snap-{node}-b", volume.VolumeId);
        return (first, second, volume);
    }

    private static async Task<Snapshot> SnapshotAsync(ThreeNodes cluster, string name, string volume) =>
        (await cluster.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = name, SourceVolumeId = volume })).Snapshot;
}
