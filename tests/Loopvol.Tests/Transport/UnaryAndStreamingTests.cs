using Google.Protobuf;
using Loopvol.Grpc;
using Loopvol.Tests.Transport.Echo;

namespace Loopvol.Tests.Transport;

public sealed class UnaryAndStreamingTests
{
    [Test]
    public async Task Unary_EchoesTheRequest()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var reply = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { Text = "hello", Payload = ByteString.CopyFrom(new byte[1000]) });

        Assert.That(reply.Text, Is.EqualTo("hello"));
        Assert.That(reply.PayloadSize, Is.EqualTo(1000));
    }

    [Test]
    public async Task Unary_EmptyMessage_RoundTrips()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var reply = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest());

        Assert.That(reply, Is.EqualTo(new EchoReply()));
    }

    [Test]
    public async Task ServerStreaming_DeliversEveryMessageInOrderThenOk()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var replies = new List<EchoReply>();
        await foreach (var reply in client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
                           new EchoRequest { Text = "s", Count = 250 }))
        {
            replies.Add(reply);
        }

        Assert.That(replies.Select(r => r.Index), Is.EqualTo(Enumerable.Range(0, 250)));
    }

    [Test]
    public async Task ServerStreaming_ZeroMessages_EndsOk()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var replies = await client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
            new EchoRequest { Count = 0 }).ToListAsync();

        Assert.That(replies, Is.Empty);
    }

    [Test]
    public async Task ServerStreaming_ErrorAfterMessages_ArrivesInTrailersAfterTheMessages()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        var received = 0;

        var error = Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.ServerStreamingAsync<EchoReply>(EchoServer.Method("Stream"),
                               new EchoRequest { Count = 3, FailWith = "rpc:9:volume is busy" }))
            {
                received++;
            }
        });

        Assert.That(received, Is.EqualTo(3));
        Assert.That(error!.Status, Is.EqualTo(new Status(StatusCode.FailedPrecondition, "volume is busy")));
    }

    [Test]
    public async Task ConcurrentCalls_HundredsInFlightAtOnce_AllSucceed()
    {
        const int calls = 400;
        await using var server = await EchoServer.StartAsync();
        server.Rendezvous = calls;
        using var client = server.Client();

        var replies = await Task.WhenAll(Enumerable.Range(0, calls).Select(i =>
            client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = $"c{i}" },
                new() { Timeout = TimeSpan.FromSeconds(60) })));

        Assert.That(replies.Select(r => r.Text), Is.EqualTo(Enumerable.Range(0, calls).Select(i => $"c{i}")));
        Assert.That(server.PeakInFlight, Is.EqualTo(calls), "every call must have been in flight at once");
    }
}
