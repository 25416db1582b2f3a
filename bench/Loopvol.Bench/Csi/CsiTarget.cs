using Google.Protobuf;
using Loopvol.Csi;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
using Loopvol.Grpc.Client;

namespace Loopvol.Bench.Csi;

/// <summary>One CSI endpoint under test: a client, and what the endpoint says it can do.</summary>
internal sealed class CsiTarget : IDisposable
{
    private CsiTarget(GrpcEndpoint endpoint, GrpcClient client)
    {
        Endpoint = endpoint;
        Client = client;
    }

    public GrpcEndpoint Endpoint { get; }

    public GrpcClient Client { get; }

    public string Name { get; private set; } = "";

    public HashSet<string> Capabilities { get; } = new(StringComparer.Ordinal);

    /// <summary>Connects and asks Identity, Controller, Node and GroupController what they offer.</summary>
    public static async Task<CsiTarget> ConnectAsync(GrpcEndpoint endpoint, CancellationToken cancellationToken)
    {
        var target = new CsiTarget(endpoint, new GrpcClient(endpoint));
        var info = await target.Call<GetPluginInfoResponse>("Identity", "GetPluginInfo", new GetPluginInfoRequest(), cancellationToken);
        target.Name = $"{info.Name} {info.VendorVersion}";
        var plugin = await target.Call<GetPluginCapabilitiesResponse>("Identity", "GetPluginCapabilities",
            new GetPluginCapabilitiesRequest(), cancellationToken);
        foreach (var c in plugin.Capabilities.Where(c => c.Service is not null))
        {
            target.Capabilities.Add($"plugin:{c.Service.Type}");
        }
        if (target.Has("plugin:ControllerService"))
        {
            var caps = await target.Call<ControllerGetCapabilitiesResponse>("Controller", "ControllerGetCapabilities",
                new ControllerGetCapabilitiesRequest(), cancellationToken);
            caps.Capabilities.ToList().ForEach(c => target.Capabilities.Add($"controller:{c.Rpc.Type}"));
        }
        if (target.Has("plugin:GroupControllerService"))
        {
            var caps = await target.Call<GroupControllerGetCapabilitiesResponse>("GroupController",
                "GroupControllerGetCapabilities", new GroupControllerGetCapabilitiesRequest(), cancellationToken);
            caps.Capabilities.ToList().ForEach(c => target.Capabilities.Add($"group:{c.Rpc.Type}"));
        }
        try
        {
            var caps = await target.Call<NodeGetCapabilitiesResponse>("Node", "NodeGetCapabilities",
                new NodeGetCapabilitiesRequest(), cancellationToken);
            target.Capabilities.Add("node:Service");
            caps.Capabilities.ToList().ForEach(c => target.Capabilities.Add($"node:{c.Rpc.Type}"));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            // A controller-only endpoint.
        }
        return target;
    }

    public bool Has(string capability) => Capabilities.Contains(capability);

    public Task<T> Call<T>(string service, string method, IMessage request, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new() =>
        Client.UnaryAsync<T>(CsiServices.Method(service, method), request,
            new CallOptions { Timeout = TimeSpan.FromMinutes(2), CancellationToken = cancellationToken });

    public void Dispose() => Client.Dispose();
}
