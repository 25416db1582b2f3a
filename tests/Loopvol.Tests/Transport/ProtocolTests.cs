using System.IO.Compression;
using System.Net;
using Google.Protobuf;
using Loopvol.Grpc;
using Loopvol.Tests.Transport.Echo;

namespace Loopvol.Tests.Transport;

public sealed class ProtocolTests
{
    private static readonly byte[] Hello = new EchoRequest { Text = "hello" }.ToByteArray();

    private static IEnumerable<TestCaseData> MalformedBodies()
    {
        yield return new TestCaseData(Array.Empty<byte>(), "no message").SetName("Body_Empty_IsInternal");
        yield return new TestCaseData(new byte[] { 0, 0, 0 }, "incomplete frame").SetName("Body_TruncatedHeader_IsInternal");
        yield return new TestCaseData(RawCall.Frame(0, 100, Hello), "incomplete frame")
            .SetName("Body_TruncatedMessage_IsInternal");
        yield return new TestCaseData(RawCall.Frame(2, (uint)Hello.Length, Hello), "compressed-flag")
            .SetName("Body_InvalidFlagByte_IsInternal");
        yield return new TestCaseData(RawCall.Frame(1, (uint)Hello.Length, Hello), "no grpc-encoding")
            .SetName("Body_CompressedWithoutEncoding_IsInternal");
        yield return new TestCaseData(RawCall.Frame(0, 3, [0xFF, 0xFF, 0xFF]), "could not be parsed")
            .SetName("Body_GarbageProtobuf_IsInternal");
        yield return new TestCaseData(
                (byte[])[.. RawCall.Frame(0, (uint)Hello.Length, Hello), .. RawCall.Frame(0, (uint)Hello.Length, Hello)],
                "more than one request message")
            .SetName("Body_TwoMessagesForUnary_IsInternal");
    }

    [TestCaseSource(nameof(MalformedBodies))]
    public async Task MalformedBody_AnswersInternalWithAClearMessage_AndServerStaysUp(byte[] body, string expected)
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary", body);

        Assert.That(raw.HttpStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(raw.GrpcStatus, Is.EqualTo("13"));
        Assert.That(Uri.UnescapeDataString(raw.GrpcMessage ?? ""), Does.Contain(expected));
        var after = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), new EchoRequest { Text = "ok" });
        Assert.That(after.Text, Is.EqualTo("ok"));
    }

    [TestCase("application/grpc+proto")]
    [TestCase("application/grpc; charset=utf-8")]
    public async Task GrpcContentTypeVariants_AreAccepted(string contentType)
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary", RawCall.Frame(0, 0, []), contentType);

        Assert.That(raw.GrpcStatus, Is.EqualTo("0"));
    }

    [Test]
    public async Task OversizedMessage_IsResourceExhausted_WithoutReadingIt()
    {
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 4096 });
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"),
            new EchoRequest { Payload = ByteString.CopyFrom(new byte[8192]) }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(error.Status.Detail, Does.Contain("4096"));
    }

    [Test]
    public async Task MessageAtTheLimit_IsAccepted()
    {
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 4096 });
        using var client = server.Client();
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[4093]) };
        Assert.That(request.CalculateSize(), Is.EqualTo(4096));

        var reply = await client.UnaryAsync<EchoReply>(EchoServer.Method("Unary"), request);

        Assert.That(reply.PayloadSize, Is.EqualTo(4093));
    }

    [Test]
    public async Task GzipCompressedRequest_WithGzipEncoding_IsDecompressed()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();
        using var packed = new MemoryStream();
        await using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Hello);
        }

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary",
            RawCall.Frame(1, (uint)packed.Length, packed.ToArray()),
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("0"));
        Assert.That(raw.BodyLength, Is.EqualTo(5 + new EchoReply { Text = "hello" }.CalculateSize()));
    }

    [Test]
    public async Task UnsupportedEncoding_IsUnimplemented_AndNamesTheSupportedOnes()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary", RawCall.Frame(1, 1, [0]),
            headers: new Dictionary<string, string> { ["grpc-encoding"] = "snappy" });

        Assert.That(raw.GrpcStatus, Is.EqualTo("12"));
        Assert.That(raw.Headers.GetValues("grpc-accept-encoding").Single(), Is.EqualTo("identity,gzip"));
    }

    [Test]
    public async Task UnknownMethod_IsTrailersOnlyUnimplementedWithHttp200()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/no.such.Service/Method", RawCall.Frame(0, 0, []));

        Assert.That(raw.HttpStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(raw.StatusInHeaders, Is.True, "a trailers-only response carries its status in the headers");
        Assert.That(raw.BodyLength, Is.Zero);
        Assert.That(raw.GrpcStatus, Is.EqualTo("12"));
        Assert.That(raw.GrpcMessage, Does.Contain("/no.such.Service/Method"));
    }

    [Test]
    public async Task DeclaredMethodWithoutHandler_IsUnimplemented()
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var error = Assert.ThrowsAsync<RpcException>(() =>
            client.UnaryAsync<EchoReply>(EchoServer.Method("Unhandled"), new EchoRequest()));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(error.Status.Detail, Does.Contain("not implemented"));
    }

    [TestCase("application/grpc-web", "POST", HttpStatusCode.UnsupportedMediaType)]
    [TestCase("application/grpc+json", "POST", HttpStatusCode.UnsupportedMediaType)]
    [TestCase("application/grpcfoo", "POST", HttpStatusCode.UnsupportedMediaType)]
    [TestCase("text/plain", "POST", HttpStatusCode.UnsupportedMediaType)]
    [TestCase("application/grpc", "GET", HttpStatusCode.MethodNotAllowed)]
    public async Task NonGrpcRequest_GetsAnHttpError(string contentType, string method, HttpStatusCode expected)
    {
        await using var server = await EchoServer.StartAsync();
        using var client = server.Client();

        var raw = await RawCall.SendAsync(client.Http, "/loopvol.test.Echo/Unary", [], contentType, method);

        Assert.That(raw.HttpStatus, Is.EqualTo(expected));
    }
}
