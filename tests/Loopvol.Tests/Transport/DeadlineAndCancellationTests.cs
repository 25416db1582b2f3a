using Loopvol.Grpc;
using Loopvol.Tests.Transport.Echo;

namespace Loopvol.Tests.Transport;

public sealed class DeadlineAndCancellationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Deadline_PassesWhileHandlerWaits_DeadlineExceededAndHandlerTokenCancelled()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { DelayMs = 30_000 },
            new() { Timeout = TimeSpan.FromMilliseconds(200), LocalGrace = TimeSpan.FromSeconds(20) }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(error.Status.Detail, Does.Contain("deadline"), "the server, not the client, must have answered");
        Assert.That(await server.HandlerCancelled.Task.WaitAsync(Patience), Is.True);
    }

    [Test]
    public async Task Deadline_HandlerIgnoresItsToken_ServerStillAnswersDeadlineExceeded()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { DelayMs = 5_000, IgnoreCancellation = true },
            new() { Timeout = TimeSpan.FromMilliseconds(200), LocalGrace = TimeSpan.FromSeconds(20) }));

        Assert.That(error!.Status.Detail, Does.Contain("deadline"));
        Assert.That(server.HandlerCancelled.Task.IsCompleted, Is.False,
            "the answer must not have waited for the handler");
    }

    [Test]
    public async Task Deadline_Streaming_EndsTheStreamWithDeadlineExceeded()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        var received = 0;

        var error = Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
                               new EchoRequest { Count = 2, DelayMs = 30_000 },
                               new() { Timeout = TimeSpan.FromMilliseconds(300), LocalGrace = TimeSpan.FromSeconds(20) }))
            {
                received++;
            }
        });

        Assert.That(received, Is.EqualTo(2));
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
    }

    [Test]
    public async Task ClientCancellation_CancelsTheHandlersToken()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        using var cts = new CancellationTokenSource();

        var call = client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { DelayMs = 30_000 },
            new() { CancellationToken = cts.Token });
        await server.HandlerStarted.Task.WaitAsync(Patience);
        await cts.CancelAsync();

        var error = Assert.ThrowsAsync<RpcException>(() => call);
        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
        Assert.That(await server.HandlerCancelled.Task.WaitAsync(Patience), Is.True);
    }

    [Test]
    public async Task ClientCancellation_ThroughTheEnumeratorToken_IsCancelledNotDeadline()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        using var cts = new CancellationTokenSource();

        var error = Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
                               new EchoRequest { Count = 1, DelayMs = 30_000 }).WithCancellation(cts.Token))
            {
                await cts.CancelAsync();
            }
        });

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Cancelled));
    }

    [Test]
    public async Task Deadline_WhileAStreamingWriteIsBlockedByFlowControl_ResetsTheStreamAndFreesTheHandler()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        var payload = new string('x', 512 * 1024);
        var received = 0;

        // The client reads one message, then stops reading: the server's writes fill the HTTP/2 windows and block.
        var error = Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
                               new EchoRequest { Text = payload, Count = 1000 },
                               new() { Timeout = TimeSpan.FromMilliseconds(500), LocalGrace = TimeSpan.FromSeconds(20) }))
            {
                if (++received == 1)
                {
                    await Task.Delay(3000);
                }
            }
        });

        Assert.That(error!.StatusCode, Is.Not.EqualTo(StatusCode.Internal).And.Not.EqualTo(StatusCode.OK),
            error.Status.ToString());
        Assert.That(server.Logs.AllText, Does.Contain("/loopvol.test.Echo/Stream answered DeadlineExceeded"));
    }

    [Test]
    public async Task Timeout_LongerThanATimerCanWait_IsClampedNotRejected()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary",
            RawCall.Frame(0, 0, []), headers: new Dictionary<string, string> { ["grpc-timeout"] = "99999999H" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("0"));
    }

    [Test]
    public async Task Timeout_Malformed_IsInternal()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary",
            RawCall.Frame(0, 0, []), headers: new Dictionary<string, string> { ["grpc-timeout"] = "10x" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("13"));
        Assert.That(raw.GrpcMessage, Does.Contain("grpc-timeout"));
    }
}
