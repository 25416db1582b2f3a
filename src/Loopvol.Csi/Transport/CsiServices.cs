using Loopvol.Csi.Services;

namespace Loopvol.Csi.Transport;

/// <summary>
/// The CSI services one server offers. Identity is always there; a service left out answers every method
/// UNIMPLEMENTED, as does every method a service does not implement.
/// </summary>
public sealed record CsiServices(IdentityService Identity)
{
    public ControllerService? Controller { get; init; }

    public NodeService? Node { get; init; }

    public GroupControllerService? GroupController { get; init; }

    /// <summary>A node agent's own service (docs/cluster.md), on an agent endpoint only.</summary>
    public AgentService? Agent { get; init; }
}
