using Loopvol.Csi;
using Loopvol.Grpc;
using Loopvol.Grpc.Client;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Bench;

/// <summary>The driver in this process, serving on a scratch file system made for one benchmark run.</summary>
internal sealed class ScratchDriver : IAsyncDisposable
{
    private readonly ScratchFileSystem _scratch;

    private ScratchDriver(ScratchFileSystem scratch, Driver driver)
    {
        _scratch = scratch;
        Driver = driver;
        Client = new GrpcClient(driver.Settings.Endpoint);
    }

    public Driver Driver { get; }

    public GrpcClient Client { get; }

    public string MountPoint => _scratch.MountPoint;

    public static async Task<ScratchDriver> StartAsync(string fsType, long sizeBytes)
    {
        var scratch = new ScratchFileSystem(fsType, sizeBytes);
        try
        {
            var driver = Driver.Create(new DriverSettings
            {
                Endpoint = GrpcEndpoint.Unix(Path.Combine(scratch.MountPoint, "csi.sock")),
                NodeId = "bench",
                DriverName = DriverIdentity.DefaultName,
                DataDirectory = Path.Combine(scratch.MountPoint, "data"),
            }, NullLoggerFactory.Instance);
            await driver.Server.StartAsync();
            return new ScratchDriver(scratch, driver);
        }
        catch
        {
            scratch.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Driver.DisposeAsync();
        _scratch.Dispose();
    }
}
