using Grpc.Net.Client;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Bench;

/// <summary>The driver in this process, serving on a scratch file system made for one benchmark run.</summary>
internal sealed class ScratchDriver : IAsyncDisposable
{
    private readonly ScratchFileSystem _scratch;
    private readonly GrpcChannel _channel;

    private ScratchDriver(ScratchFileSystem scratch, Driver driver, GrpcEndpoint endpoint)
    {
        _scratch = scratch;
        Driver = driver;
        Endpoint = endpoint;
        _channel = CsiChannel.Create(endpoint);
        Controller = new Controller.ControllerClient(_channel);
        Node = new Node.NodeClient(_channel);
    }

    public Driver Driver { get; }

    public GrpcEndpoint Endpoint { get; }

    public Controller.ControllerClient Controller { get; }

    public Node.NodeClient Node { get; }

    public string MountPoint => _scratch.MountPoint;

    public static async Task<ScratchDriver> StartAsync(string fsType, long sizeBytes)
    {
        var scratch = new ScratchFileSystem(fsType, sizeBytes);
        try
        {
            var endpoint = GrpcEndpoint.Unix(Path.Combine(scratch.MountPoint, "csi.sock"));
            var driver = await Driver.CreateAsync(new DriverSettings
            {
                Endpoint = endpoint,
                NodeId = "bench",
                DriverName = Loopvol.Csi.DriverIdentity.DefaultName,
                DataDirectory = Path.Combine(scratch.MountPoint, "data"),
            }, NullLoggerFactory.Instance);
            await driver.Server.StartAsync();
            return new ScratchDriver(scratch, driver, endpoint);
        }
        catch
        {
            scratch.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await Driver.DisposeAsync();
        _scratch.Dispose();
    }
}
