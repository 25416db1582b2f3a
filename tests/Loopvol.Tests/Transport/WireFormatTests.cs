using Loopvol.Grpc;
using Loopvol.Grpc.Internal;
using Loopvol.Tests.Transport.Echo;

namespace Loopvol.Tests.Transport;

public sealed class WireFormatTests
{
    [TestCase("1H", 36_000_000_000L)]
    [TestCase("2M", 1_200_000_000L)]
    [TestCase("3S", 30_000_000L)]
    [TestCase("250m", 2_500_000L)]
    [TestCase("7u", 70L)]
    [TestCase("900n", 9L)]
    [TestCase("99999999S", 999_999_990_000_000L)]
    public void Timeout_Valid_ParsesToTicks(string header, long expectedTicks)
    {
        Assert.That(GrpcTimeout.TryParse(header, out var t), Is.True);
        Assert.That(t.Ticks, Is.EqualTo(Math.Min(expectedTicks, GrpcTimeout.Max.Ticks)));
    }

    [TestCase("")]
    [TestCase("S")]
    [TestCase("10")]
    [TestCase("10x")]
    [TestCase("-1S")]
    [TestCase("123456789S")]
    [TestCase("1.5S")]
    public void Timeout_Malformed_IsRejected(string header) =>
        Assert.That(GrpcTimeout.TryParse(header, out _), Is.False);

    [TestCase(250L * TimeSpan.TicksPerMillisecond, "250000u")]
    [TestCase(5L * TimeSpan.TicksPerSecond, "5000000u")]
    [TestCase(3L * TimeSpan.TicksPerDay, "259200S")]
    public void Timeout_Format_UsesAtMostEightDigits(long ticks, string expected) =>
        Assert.That(GrpcTimeout.Format(TimeSpan.FromTicks(ticks)), Is.EqualTo(expected));

    [TestCase("plain", "plain")]
    [TestCase("50%", "50%25")]
    [TestCase("a\nb", "a%0Ab")]
    [TestCase("é", "%C3%A9")]
    public void PercentEncoding_EncodesAndDecodes(string text, string encoded)
    {
        Assert.That(PercentEncoding.Encode(text), Is.EqualTo(encoded));
        Assert.That(PercentEncoding.Decode(encoded), Is.EqualTo(text));
    }

    [TestCase("unix:///var/lib/loopvol/csi.sock", "/var/lib/loopvol/csi.sock", null, 0)]
    [TestCase("unix:/csi/csi.sock", "/csi/csi.sock", null, 0)]
    [TestCase("/csi/csi.sock", "/csi/csi.sock", null, 0)]
    [TestCase("tcp://127.0.0.1:10000", null, "127.0.0.1", 10000)]
    [TestCase("tcp://[::1]:9", null, "::1", 9)]
    public void Endpoint_Valid_Parses(string text, string? path, string? host, int port)
    {
        var endpoint = GrpcEndpoint.Parse(text);
        Assert.That((endpoint.SocketPath, endpoint.Host, endpoint.Port), Is.EqualTo((path, host, port)));
    }

    [TestCase("unix://relative/csi.sock")]
    [TestCase("tcp://host")]
    [TestCase("tcp://host:99999")]
    [TestCase("http://x:1")]
    [TestCase("csi.sock")]
    public void Endpoint_Invalid_IsAFormatError(string text) =>
        Assert.Throws<FormatException>(() => GrpcEndpoint.Parse(text));

    [Test]
    public void Registry_HandlerWithWrongRequestType_FailsWhenMapped()
    {
        var registry = new GrpcServiceRegistry([EchoReflection.Descriptor.Services[0]]);

        Assert.Throws<ArgumentException>(() => registry.MapUnary<EchoReply, EchoReply>(EchoServer.Method("Unary"),
            (r, _) => Task.FromResult(r)));
    }

    [Test]
    public void Registry_StreamingMethodMappedAsUnary_FailsWhenMapped()
    {
        var registry = new GrpcServiceRegistry([EchoReflection.Descriptor.Services[0]]);

        Assert.Throws<ArgumentException>(() => registry.MapUnary<EchoRequest, EchoReply>(EchoServer.Method("Stream"),
            (_, _) => Task.FromResult(new EchoReply())));
    }
}
