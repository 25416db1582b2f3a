using Grpc.Core;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Bench;

/// <summary>
/// A CSI endpoint that serves only Identity and advertises no service (Grpc.AspNetCore on a Unix socket), for the
/// benchmark's capability checks; every other CSI method is UNIMPLEMENTED.
/// </summary>
internal sealed class IdentityOnlyServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IdentityOnlyServer(WebApplication app, GrpcEndpoint endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public GrpcEndpoint Endpoint { get; }

    public static async Task<IdentityOnlyServer> StartAsync(string socketPath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socketPath, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<IdentityOnly>();
        await app.StartAsync();
        return new IdentityOnlyServer(app, GrpcEndpoint.Unix(socketPath));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class IdentityOnly : Identity.IdentityBase
    {
        public override Task<GetPluginInfoResponse> GetPluginInfo(GetPluginInfoRequest request, ServerCallContext context) =>
            Task.FromResult(new GetPluginInfoResponse { Name = "identity-only.example.org", VendorVersion = "1" });

        public override Task<GetPluginCapabilitiesResponse> GetPluginCapabilities(GetPluginCapabilitiesRequest request,
            ServerCallContext context) => Task.FromResult(new GetPluginCapabilitiesResponse());
    }
}
