using Grpc.Core;
using Loopvol.Core.Native;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Transport;

/// <summary>The socket file's life and a graceful stop, on the real driver.</summary>
public sealed class ServerLifecycleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Socket_IsCreatedWithMode0660()
    {
        await using var driver = await InProcessDriver.StartAsync();

        var mode = File.GetUnixFileMode(driver.Settings.Endpoint.SocketPath!);

        Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead |
                                     UnixFileMode.GroupWrite));
    }

    [Test]
    public async Task Start_StaleSocketFile_IsReplaced()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("csi.sock");
        await BindElsewhereAsync(path); // Bound, never listening: what a driver killed with SIGKILL leaves.
        Assert.That(SocketFiles.IsSocket(path), Is.True);

        await using var driver = await InProcessDriver.StartAsync(s => s with { Endpoint = GrpcEndpoint.Unix(path) });

        var probe = await driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());
        Assert.That(probe.Ready, Is.True);
        Assert.That(driver.Logs.AllText, Does.Contain($"removed stale socket file {path}"));
    }

    [Test]
    public async Task Start_SocketServedByAnotherDriver_IsRefusedAndLeftAlone()
    {
        await using var first = await InProcessDriver.StartAsync();
        using var dir = new TempDirectory();
        await using var second = await Driver.CreateAsync(first.Settings with { DataDirectory = dir.Combine("data") },
            NullLoggerFactory.Instance);

        var error = Assert.ThrowsAsync<IOException>(() => second.Server.StartAsync());

        Assert.That(error!.Message, Does.Contain("already serving"));
        Assert.That((await first.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest())).Ready, Is.True);
    }

    [Test]
    public async Task Start_PathIsARegularFile_IsRefusedAndTheFileKept()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("csi.sock");
        await File.WriteAllTextAsync(path, "not a socket");

        var error = Assert.ThrowsAsync<IOException>(() =>
            InProcessDriver.StartAsync(s => s with { Endpoint = GrpcEndpoint.Unix(path), DataDirectory = dir.Combine("data") }));

        Assert.That(error!.Message, Does.Contain("is not a socket"));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("not a socket"));
    }

    [Test]
    public async Task Stop_WhileASuccessorTookThePathDuringTheDrain_LeavesTheSuccessorsSocket()
    {
        var gate = new Gate("create-volume.reserved");
        await using var driver = await InProcessDriver.StartAsync(s => s with { Faults = gate });
        var path = driver.Settings.Endpoint.SocketPath!;
        var create = driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-drain"));
        Assert.That(await gate.WaitEnteredAsync(Patience), Is.True);

        var stopping = driver.Server.StopAsync(); // Stops listening, then drains the call in flight.
        await Task.Delay(200);
        File.Delete(path);
        await BindElsewhereAsync(path); // A successor took the path meanwhile.
        gate.Open();
        await stopping.WaitAsync(Patience);
        await create;

        Assert.That(SocketFiles.IsSocket(path), Is.True, "only the socket this server bound is removed");
    }

    [Test]
    public async Task GracefulStop_InFlightCallFinishes_NewCallsRefused_SocketRemoved()
    {
        var gate = new Gate("create-volume.reserved");
        await using var driver = await InProcessDriver.StartAsync(s => s with { Faults = gate });
        var create = driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", NewVolume("pvc-in-flight"));
        Assert.That(await gate.WaitEnteredAsync(Patience), Is.True);

        var stopping = driver.Server.StopAsync();
        await Task.Delay(200);
        Assert.That(stopping.IsCompleted, Is.False, "the stop waits for the call in flight");
        gate.Open();
        await stopping.WaitAsync(Patience);

        Assert.That((await create).Volume.VolumeId, Does.StartWith("vol-"), "the in-flight call completed");
        Assert.That(SocketFiles.Stat(driver.Settings.Endpoint.SocketPath!), Is.Null, "the socket file is removed");
        var refused = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest()));
        Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public async Task TcpEndpoint_ServesOnTheBoundPort()
    {
        await using var driver = await InProcessDriver.StartAsync(s => s with { Endpoint = GrpcEndpoint.Tcp("127.0.0.1", 0) });
        using var client = new CsiClient(driver.Server.Endpoint);

        var info = await client.UnaryAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo", new GetPluginInfoRequest());

        Assert.That(driver.Server.Endpoint.Port, Is.GreaterThan(0));
        Assert.That(info.Name, Is.EqualTo(driver.Settings.DriverName));
    }

    private static CreateVolumeRequest NewVolume(string name) => new()
    {
        Name = name,
        CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
        VolumeCapabilities = { ControllerFixture.Mount("ext4") },
    };

    /// <summary>
    /// Binds a socket at <paramref name="path"/> in another process, which leaves the file behind (.NET unlinks a
    /// socket file it bound when the socket is disposed).
    /// </summary>
    private static Task BindElsewhereAsync(string path) =>
        Processes.RunAsync("/usr/bin/python3", ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]);
}
