using Loopvol.Grpc;
using Loopvol.Grpc.Client;
using Loopvol.Tests.Support;
using Loopvol.Tests.Transport.Echo;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Transport;

public sealed class LifecycleTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Socket_IsCreatedWithMode0660()
    {
        await using var server = await EchoServer.StartAsync();

        var mode = File.GetUnixFileMode(server.Endpoint.SocketPath!);

        Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead |
                                     UnixFileMode.GroupWrite));
    }

    [Test]
    public async Task GracefulStop_InFlightCallFinishes_NewCallsRefused_SocketRemoved()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        var slow = client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { Text = "slow", DelayMs = 700 });
        await server.HandlerStarted.Task.WaitAsync(Patience);

        await server.Server.StopAsync();

        Assert.That((await slow).Text, Is.EqualTo("slow"), "an in-flight call must complete");
        Assert.That(File.Exists(server.Endpoint.SocketPath!), Is.False, "the socket file must be removed");
        using var fresh = new GrpcClient(server.Endpoint);
        var error = Assert.ThrowsAsync<RpcException>(() =>
            fresh.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest()));
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public async Task Stop_HandlerOutlivesShutdownTimeout_IsCancelledAndStopReturns()
    {
        await using var server = await EchoServer.StartAsync(
            new GrpcServerOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = server.Client();
        var stuck = client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { DelayMs = 120_000 });
        await server.HandlerStarted.Task.WaitAsync(Patience);

        await server.Server.StopAsync().WaitAsync(Patience);

        Assert.That(await server.HandlerCancelled.Task.WaitAsync(Patience), Is.True);
        Assert.ThrowsAsync<RpcException>(() => stuck);
    }

    [Test]
    public async Task Start_StaleSocketFile_IsReplaced()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("csi.sock");
        // .NET unlinks a socket file it bound when the socket is disposed, so another process leaves one behind,
        // as a driver killed with SIGKILL would.
        await Processes.RunAsync("/usr/bin/python3",
            ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path]);
        Assert.That(File.Exists(path), Is.True);

        await using var server = GrpcServer.Create(GrpcEndpoint.Unix(path), Registry(), new GrpcServerOptions(),
            NullLoggerFactory.Instance);
        await server.StartAsync();

        using var client = new GrpcClient(GrpcEndpoint.Unix(path));
        Assert.That((await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "x" })).Text,
            Is.EqualTo("x"));
    }

    [Test]
    public async Task Start_SocketServedByAnotherProcess_IsRefusedAndLeftAlone()
    {
        await using var first = await EchoServer.StartAsync();
        await using var second = GrpcServer.Create(first.Endpoint, Registry(), new GrpcServerOptions(),
            NullLoggerFactory.Instance);

        var error = Assert.ThrowsAsync<IOException>(() => second.StartAsync());

        Assert.That(error!.Message, Does.Contain("already serving"));
        using var client = first.Client();
        Assert.That((await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "y" })).Text,
            Is.EqualTo("y"));
    }

    [Test]
    public async Task Start_PathIsARegularFile_IsRefusedAndTheFileKept()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("csi.sock");
        await File.WriteAllTextAsync(path, "not a socket");
        await using var server = GrpcServer.Create(GrpcEndpoint.Unix(path), Registry(), new GrpcServerOptions(),
            NullLoggerFactory.Instance);

        var error = Assert.ThrowsAsync<IOException>(() => server.StartAsync());

        Assert.That(error!.Message, Does.Contain("not a socket"));
        Assert.That(await File.ReadAllTextAsync(path), Is.EqualTo("not a socket"));
    }

    [Test]
    public async Task TcpEndpoint_PortZero_ServesOnTheBoundPort()
    {
        await using var server = GrpcServer.Create(GrpcEndpoint.Tcp("127.0.0.1", 0), Registry(),
            new GrpcServerOptions(), NullLoggerFactory.Instance);
        await server.StartAsync();
        Assert.That(server.Endpoint.Port, Is.Not.Zero);

        using var client = new GrpcClient(server.Endpoint);
        var reply = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "tcp" });

        Assert.That(reply.Text, Is.EqualTo("tcp"));
    }

    [Test]
    public async Task FailedStart_ThenDispose_LeavesTheLiveServersSocketAlone()
    {
        await using var first = await EchoServer.StartAsync();
        var second = GrpcServer.Create(first.Endpoint, Registry(), new GrpcServerOptions(), NullLoggerFactory.Instance);
        Assert.ThrowsAsync<IOException>(() => second.StartAsync());

        await second.DisposeAsync();

        using var client = first.Client();
        var reply = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "alive" });
        Assert.That(reply.Text, Is.EqualTo("alive"));
    }

    [Test]
    public async Task Stop_WhileASuccessorTookThePathDuringTheDrain_LeavesTheSuccessorsSocket()
    {
        await using var old = await EchoServer.StartAsync();
        using var client = old.Client();
        var slow = client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { DelayMs = 1500 });
        await old.HandlerStarted.Task.WaitAsync(Patience);
        var stopping = old.Server.StopAsync();
        await using var successor = GrpcServer.Create(old.Endpoint, Registry(), new GrpcServerOptions(),
            NullLoggerFactory.Instance);
        await WaitUntilAsync(async () =>
        {
            try
            {
                await successor.StartAsync();
                return true;
            }
            catch (IOException)
            {
                return false; // The old listener is still up.
            }
        });

        await stopping;
        await slow;

        using var fresh = new GrpcClient(old.Endpoint);
        var reply = await fresh.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "next" });
        Assert.That(reply.Text, Is.EqualTo("next"));
    }

    [Test]
    public async Task ConcurrentStarts_LeaveTheProcessUmaskAsItWas()
    {
        var before = Loopvol.Grpc.Internal.Native.Umask(0b_000_010_010);
        Loopvol.Grpc.Internal.Native.Umask(before);

        var servers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => EchoServer.StartAsync()));
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }

        var after = Loopvol.Grpc.Internal.Native.Umask(before);
        Assert.That(after, Is.EqualTo(before));
    }

    [Test]
    public void Options_NegativeMessageLimit_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GrpcServerOptions { MaxReceiveMessageSize = -1 });

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the condition never came true");
            await Task.Delay(20);
        }
    }

    private static GrpcServiceRegistry Registry() =>
        new GrpcServiceRegistry([EchoReflection.Descriptor.Services[0]])
            .MapUnary<EchoRequest, EchoReply>(EchoServer.Method("Unary"),
                (r, _) => Task.FromResult(new EchoReply { Text = r.Text }));
}
