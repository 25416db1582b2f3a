using Loopvol.Core.Errors;
using Loopvol.Csi.V1;

namespace Loopvol.Csi.Validation;

/// <summary>Volumes live on one node: their topology is that node's segment.</summary>
public static class NodeTopology
{
    public const string NodeKey = "topology.loopvol.csi.dev/node";

    public static V1.Topology Of(string nodeId) => new() { Segments = { [NodeKey] = nodeId } };

    /// <summary>
    /// Checks that the requirements admit this node: the requisite list when given, else the preferred list when
    /// given. A list that excludes this node is RESOURCE_EXHAUSTED, as the spec asks.
    /// </summary>
    internal static void Admit(TopologyRequirement? requirement, string nodeId)
    {
        if (requirement is null)
        {
            return;
        }
        var list = requirement.Requisite.Count > 0 ? requirement.Requisite : requirement.Preferred;
        if (list.Count > 0 && !list.Any(t => Accepts(t, nodeId)))
        {
            throw new ResourceExhaustedException(
                $"accessibility_requirements exclude this node ({NodeKey}={nodeId}); its volumes exist only here");
        }
    }

    /// <summary>The requirements in their typed form, for comparing retries.</summary>
    internal static Journal.Model.Accessibility? Canonical(TopologyRequirement? requirement) => requirement is null
        ? null
        : Journal.Model.Accessibility.Of(requirement.Requisite.Select(t => t.Segments), requirement.Preferred.Select(t => t.Segments));

    /// <summary>This node's volumes carry one segment, so a topology admits them only if it asks for exactly that.</summary>
    private static bool Accepts(V1.Topology topology, string nodeId) =>
        topology.Segments.Count > 0 && topology.Segments.All(s => s.Key == NodeKey && s.Value == nodeId);
}
