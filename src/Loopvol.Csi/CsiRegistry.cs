using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Grpc;

namespace Loopvol.Csi;

/// <summary>
/// Builds the routing table of every CSI service and binds the implemented methods; the rest answer UNIMPLEMENTED.
/// </summary>
public static class CsiRegistry
{
    public static GrpcServiceRegistry Create(IdentityService identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var registry = new GrpcServiceRegistry(CsiServices.All);
        registry
            .MapUnary<GetPluginInfoRequest, GetPluginInfoResponse>(
                CsiServices.Method("Identity", "GetPluginInfo"), identity.GetPluginInfoAsync)
            .MapUnary<GetPluginCapabilitiesRequest, GetPluginCapabilitiesResponse>(
                CsiServices.Method("Identity", "GetPluginCapabilities"), identity.GetPluginCapabilitiesAsync)
            .MapUnary<ProbeRequest, ProbeResponse>(
                CsiServices.Method("Identity", "Probe"), identity.ProbeAsync);
        return registry;
    }

    /// <summary>Methods called so often (liveness probes) that their calls are logged at Trace.</summary>
    public static IReadOnlySet<string> QuietMethods { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "/csi.v1.Identity/Probe" };
}
