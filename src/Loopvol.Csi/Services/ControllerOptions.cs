namespace Loopvol.Csi.Services;

/// <summary>What the controller needs to know about its deployment.</summary>
public sealed record ControllerOptions(string NodeId, bool EnableAttach)
{
    /// <summary>
    /// Hand out IDs tagged with <see cref="NodeId"/>, so a central controller can route them (node mode, serving the
    /// agent endpoint; docs/cluster.md). Untagged IDs, and IDs tagged with this node, are accepted either way.
    /// </summary>
    public bool TagIds { get; init; }

    /// <summary>
    /// The most volumes ControllerPublish attaches to this node (NodeGetInfo's max_volumes_per_node); 0: no limit.
    /// One more is RESOURCE_EXHAUSTED.
    /// </summary>
    public long MaxVolumesPerNode { get; init; }
}
