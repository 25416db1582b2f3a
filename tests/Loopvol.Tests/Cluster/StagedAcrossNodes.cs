using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Volumes made through the controller on chosen nodes of a <see cref="ThreeNodes"/> cluster, each staged (ext4) by
/// its own node's Node service, as a pod there would have it; disposing unstages them all.
/// </summary>
internal sealed class StagedAcrossNodes : IAsyncDisposable
{
    private readonly ThreeNodes _cluster;
    private readonly TempDirectory _kubelet = new();

    private StagedAcrossNodes(ThreeNodes cluster) => _cluster = cluster;

    /// <summary>The volumes' IDs, in the order made.</summary>
    public List<string> Ids { get; } = [];

    /// <summary>Each volume's node, by index into <see cref="ThreeNodes.NodeIds"/>.</summary>
    public List<int> Nodes { get; } = [];

    /// <summary>Each volume's staging path.</summary>
    public List<string> Staging { get; } = [];

    /// <summary>Makes and stages one volume on each node of <paramref name="nodes"/>, in that order.</summary>
    public static async Task<StagedAcrossNodes> CreateAsync(ThreeNodes cluster, params int[] nodes)
    {
        var staged = new StagedAcrossNodes(cluster);
        try
        {
            foreach (var node in nodes)
            {
                var volume = await ClusterRoutingTests.CreateAsync(cluster, $"pvc-{Guid.NewGuid():N}",
                    ClusterRoutingTests.Preferring(ThreeNodes.NodeIds[node]));
                var path = Directory.CreateDirectory(staged._kubelet.Combine($"s{staged.Ids.Count}")).FullName;
                await cluster.Node(node).CallAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
                {
                    VolumeId = volume.VolumeId, StagingTargetPath = path, VolumeCapability = ControllerFixture.Mount("ext4"),
                });
                staged.Ids.Add(volume.VolumeId);
                staged.Nodes.Add(node);
                staged.Staging.Add(path);
            }
            return staged;
        }
        catch
        {
            await staged.DisposeAsync();
            throw;
        }
    }

    /// <summary>The path of a member snapshot's image in its node's pool.</summary>
    public string ImageOf(Snapshot snapshot)
    {
        var node = Array.IndexOf(ThreeNodes.NodeIds, snapshot.SnapshotId[(snapshot.SnapshotId.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        return Path.Combine(_cluster.Node(node).Settings.PoolDirectory, snapshot.SnapshotId[..snapshot.SnapshotId.IndexOf('.', StringComparison.Ordinal)] + ".img");
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Ids.Count; i++)
        {
            await _cluster.Node(Nodes[i]).CallAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = Ids[i], StagingTargetPath = Staging[i] });
        }
        _kubelet.Dispose();
    }
}
