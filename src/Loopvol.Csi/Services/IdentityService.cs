using Grpc.Core;
using Loopvol.Core.Health;
using Loopvol.Csi.V1;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Services;

/// <summary>The CSI Identity service: who the plugin is, what it offers, and whether it is ready.</summary>
public sealed partial class IdentityService(DriverIdentity identity, IReadOnlyList<PluginCapability> capabilities,
    IReadOnlyList<IReadinessCheck> readiness, ILogger<IdentityService> logger) : Identity.IdentityBase
{
    public override Task<GetPluginInfoResponse> GetPluginInfo(GetPluginInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetPluginInfoResponse { Name = identity.Name, VendorVersion = identity.VendorVersion });

    public override Task<GetPluginCapabilitiesResponse> GetPluginCapabilities(GetPluginCapabilitiesRequest request,
        ServerCallContext context) =>
        Task.FromResult(new GetPluginCapabilitiesResponse { Capabilities = { capabilities } });

    public override async Task<ProbeResponse> Probe(ProbeRequest request, ServerCallContext context)
    {
        foreach (var check in readiness)
        {
            if (await check.CheckAsync(context.CancellationToken).ConfigureAwait(false) is { } reason)
            {
                NotReady(logger, check.Name, reason);
                return new ProbeResponse { Ready = false };
            }
        }
        return new ProbeResponse { Ready = true };
    }

    [LoggerMessage(2000, LogLevel.Warning, "not ready: {Check}: {Reason}")]
    private static partial void NotReady(ILogger logger, string check, string reason);
}
