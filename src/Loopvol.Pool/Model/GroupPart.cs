using Loopvol.Core.Ids;

namespace Loopvol.Pool.Model;

/// <summary>
/// What the controller asks of one node for a group snapshot across nodes (docs/cluster.md): record this node's part
/// of group <paramref name="Id"/> (named <paramref name="Name"/>, of all <paramref name="Sources"/>, held by
/// <paramref name="Nodes"/>) and hold its <paramref name="Members"/> still for at most <paramref name="Lease"/>.
/// <paramref name="KubernetesNames"/>: the names the CO passed, recorded with the part before anything is frozen.
/// </summary>
public sealed record GroupPartRequest(string Name, ObjectId Id, IReadOnlyList<ObjectId> Sources, IReadOnlyList<string> Nodes,
    IReadOnlyList<ObjectId> Members, TimeSpan Lease, IReadOnlyDictionary<string, string> KubernetesNames);

public enum GroupPartState
{
    /// <summary>Recorded and held still, waiting for the commit.</summary>
    Prepared,

    /// <summary>Copied and released: the members are kept.</summary>
    Committed,
}

/// <summary>
/// A group this pool holds: one node's part of a group across nodes (<paramref name="Nodes"/> not empty), or a group
/// made whole here (<paramref name="Nodes"/> empty). <paramref name="Group"/> carries the members once committed.
/// </summary>
public sealed record GroupPartInfo(ObjectId Id, string Name, GroupPartState State, IReadOnlyList<string> Nodes,
    IReadOnlyList<ObjectId> Sources, GroupSnapshotInfo? Group, DateTimeOffset CreatedAt);
