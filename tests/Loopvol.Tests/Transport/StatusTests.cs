using Loopvol.Grpc;
using Loopvol.Tests.Transport.Echo;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Transport;

public sealed class StatusTests
{
    private static IEnumerable<TestCaseData> Details()
    {
        yield return new TestCaseData("plain ascii detail").SetName("Detail_Ascii_RoundTrips");
        yield return new TestCaseData("100% full: naïve café ✓\nsecond line").SetName("Detail_PercentUnicodeNewline_RoundTrips");
    }

    [TestCaseSource(nameof(Details))]
    public async Task RpcException_StatusAndPercentEncodedDetail_ReachTheClient(string detail)
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { FailWith = $"rpc:6:{detail}" }));

        Assert.That(error!.Status, Is.EqualTo(new Status(StatusCode.AlreadyExists, detail)));
    }

    [Test]
    public async Task UnexpectedException_IsInternalWithGenericMessage_AndLoggedWithStack()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { FailWith = "unexpected" }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(error.Status.Detail, Does.Not.Contain("secret internal detail"));
        Assert.That(server.Logs.Lines.Any(l => l.Level == LogLevel.Error && l.Error is InvalidOperationException),
            Is.True, "the unexpected exception must be logged with its stack trace");
    }

    [Test]
    public async Task DomainException_IsMappedByTheExceptionMapper()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { FailWith = "domain" }));

        Assert.That(error!.Status, Is.EqualTo(new Status(StatusCode.NotFound, "volume_id vol-1 does not exist")));
    }

    [Test]
    public async Task EveryCall_IsLoggedWithMethodCodeAndDuration()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest());

        Assert.That(server.Logs.Lines.Any(l => l.Level == LogLevel.Information &&
                                               l.Text.StartsWith("/loopvol.test.Echo/Unary answered OK in ",
                                                   StringComparison.Ordinal)),
            Is.True, server.Logs.AllText);
    }
}
