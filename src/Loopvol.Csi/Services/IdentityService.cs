using Loopvol.Core.Health;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Services;

/// <summary>The CSI Identity service: who the plugin is, what it offers, and whether it is ready.</summary>
public sealed partial class IdentityService(DriverIdentity identity, IReadOnlyList<PluginCapability> capabilities,
    IReadOnlyList<IReadinessCheck> readiness, ILogger<IdentityService> logger)
{
    public Task<GetPluginInfoResponse> GetPluginInfoAsync(GetPluginInfoRequest request, CallContext context) =>
        Task.FromResult(new GetPluginInfoResponse { Name = identity.Name, VendorVersion = identity.VendorVersion });

    public Task<GetPluginCapabilitiesResponse> GetPluginCapabilitiesAsync(GetPluginCapabilitiesRequest request,
        CallContext context) =>
        Task.FromResult(new GetPluginCapabilitiesResponse { Capabilities = { capabilities } });

    public async Task<ProbeResponse> ProbeAsync(ProbeRequest request, CallContext context)
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
