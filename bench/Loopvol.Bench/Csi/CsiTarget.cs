using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;

namespace Loopvol.Bench.Csi;

/// <summary>
/// One CSI endpoint under test: a channel, the four CSI clients, what the endpoint says it can do, and, when given,
/// its fsync counter (<see cref="Fsyncs"/>) and the fsync latency of its pool's file system.
/// </summary>
internal sealed class CsiTarget : IDisposable
{
    /// <summary>The deadline of each call a workload makes.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);

    private readonly GrpcChannel _channel;

    private CsiTarget(GrpcEndpoint endpoint, GrpcChannel channel, FsyncCounter? fsyncs)
    {
        Endpoint = endpoint;
        Fsyncs = fsyncs;
        _channel = channel;
        Identity = new Identity.IdentityClient(channel);
        Controller = new Controller.ControllerClient(channel);
        Node = new Node.NodeClient(channel);
        Group = new GroupController.GroupControllerClient(channel);
        Metadata = new SnapshotMetadata.SnapshotMetadataClient(channel);
    }

    public GrpcEndpoint Endpoint { get; }

    /// <summary>The driver's fsync counter, read from its metrics URL; null when the endpoint has none.</summary>
    public FsyncCounter? Fsyncs { get; }

    /// <summary>The fsync p50 of the endpoint's file system (--fsync-probe), in ms; null when not measured.</summary>
    public double? FsyncP50Ms { get; set; }

    public Identity.IdentityClient Identity { get; }

    public Controller.ControllerClient Controller { get; }

    public Node.NodeClient Node { get; }

    public GroupController.GroupControllerClient Group { get; }

    public SnapshotMetadata.SnapshotMetadataClient Metadata { get; }

    public string Name { get; private set; } = "";

    public HashSet<string> Capabilities { get; } = new(StringComparer.Ordinal);

    /// <summary>Options of one call: the workload's deadline and <paramref name="cancellationToken"/>.</summary>
    public static CallOptions Options(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);

    /// <summary>
    /// Connects and asks Identity, Controller, Node and GroupController what they offer; with a
    /// <paramref name="metrics"/> URL, reads the fsync counter once, so a wrong URL fails before any workload.
    /// </summary>
    public static async Task<CsiTarget> ConnectAsync(GrpcEndpoint endpoint, CancellationToken cancellationToken,
        Uri? metrics = null)
    {
        var target = new CsiTarget(endpoint, CsiChannel.Create(endpoint), metrics is null ? null : new FsyncCounter(metrics));
        try
        {
            await target.DiscoverAsync(cancellationToken);
            await target.ReadFsyncsAsync(cancellationToken);
            return target;
        }
        catch
        {
            target.Dispose();
            throw;
        }
    }

    public bool Has(string capability) => Capabilities.Contains(capability);

    /// <summary>The driver's fsync count now; null when the endpoint has no metrics URL.</summary>
    public async Task<double?> ReadFsyncsAsync(CancellationToken cancellationToken) =>
        Fsyncs is { } counter ? await counter.ReadAsync(cancellationToken) : null;

    /// <summary>How far the fsync count moved since <paramref name="before"/>; null when the endpoint has no metrics URL.</summary>
    public async Task<double?> FsyncsSinceAsync(double? before, CancellationToken cancellationToken) =>
        await ReadFsyncsAsync(cancellationToken) - before;

    public void Dispose()
    {
        _channel.Dispose();
        Fsyncs?.Dispose();
    }

    private async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        var info = await Identity.GetPluginInfoAsync(new GetPluginInfoRequest(), Options(cancellationToken));
        Name = $"{info.Name} {info.VendorVersion}";
        var plugin = await Identity.GetPluginCapabilitiesAsync(new GetPluginCapabilitiesRequest(), Options(cancellationToken));
        foreach (var c in plugin.Capabilities.Where(c => c.Service is not null))
        {
            Capabilities.Add($"plugin:{c.Service.Type}");
        }
        if (Has("plugin:ControllerService"))
        {
            var caps = await Controller.ControllerGetCapabilitiesAsync(new ControllerGetCapabilitiesRequest(),
                Options(cancellationToken));
            caps.Capabilities.ToList().ForEach(c => Capabilities.Add($"controller:{c.Rpc.Type}"));
        }
        if (Has("plugin:GroupControllerService"))
        {
            var caps = await Group.GroupControllerGetCapabilitiesAsync(new GroupControllerGetCapabilitiesRequest(),
                Options(cancellationToken));
            caps.Capabilities.ToList().ForEach(c => Capabilities.Add($"group:{c.Rpc.Type}"));
        }
        try
        {
            var caps = await Node.NodeGetCapabilitiesAsync(new NodeGetCapabilitiesRequest(), Options(cancellationToken));
            Capabilities.Add("node:Service");
            caps.Capabilities.ToList().ForEach(c => Capabilities.Add($"node:{c.Rpc.Type}"));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            // A controller-only endpoint.
        }
    }
}
