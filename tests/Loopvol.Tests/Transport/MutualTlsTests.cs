using Loopvol.Bench.Tls;
using Grpc.Core;
using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Transport;

/// <summary>
/// Mutual TLS between the CSI server's TCP endpoint and <see cref="CsiChannel"/>: the real server and Identity
/// service on loopback, with a private CA, an unrelated second CA, and their certificates made in the test and
/// given as PEM files. A refused peer fails the handshake, so no handler runs. When the client refuses the server the
/// call fails INTERNAL (Grpc.Net.Client's status for a failed TLS authentication); when the server refuses the client
/// it closes the connection, which the client sees as UNAVAILABLE or INTERNAL depending on how far its HTTP/2 preface
/// got.
/// </summary>
public sealed class MutualTlsTests
{
    private TempDirectory _dir = null!;
    private TestCa _ca = null!;
    private TestCa _otherCa = null!;
    private TlsFiles _server = null!;
    private TlsFiles _client = null!;

    [OneTimeSetUp]
    public void MakeCertificates()
    {
        _dir = new TempDirectory();
        _ca = TestCa.CreateRoot("loopvol test CA");
        _otherCa = TestCa.CreateRoot("unrelated CA");
        _server = _ca.Write(_dir.Path, "server", _ca.Server(["127.0.0.1", "localhost", "::1"]), _ca);
        _client = _ca.Write(_dir.Path, "client", _ca.Client(), _ca);
    }

    [OneTimeTearDown]
    public void RemoveCertificates() => _dir.Dispose();

    [TestCase("127.0.0.1", "127.0.0.1")]
    [TestCase("127.0.0.1", "localhost")]
    [TestCase("::1", "::1")]
    public async Task RightClient_RightCa_IsServed(string listen, string dial)
    {
        await using var server = await TlsServer.StartAsync(_server, listen);
        using var client = TlsClient.Create(server.Dial(dial), _client);

        var info = await client.GetPluginInfoAsync();

        Assert.That(info.Name, Is.EqualTo(TlsServer.DriverName));
        Assert.That(server.Logs.AllText, Does.Contain($"serving gRPC on tcp://{listen}:{server.Server.Endpoint.Port} with mutual TLS"));
    }

    [Test]
    public async Task ClientWithoutCertificate_IsRefused()
    {
        await using var server = await TlsServer.StartAsync(_server);
        using var client = TlsClient.WithoutCertificate(server.Dial(), _client);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(await server.LogWithAsync("Failed to authenticate HTTPS connection"),
            Does.Contain("HttpsConnectionMiddleware Failed to authenticate HTTPS connection"), "Kestrel refused it in the handshake");
    }

    [Test]
    public async Task ClientCertificateFromAnotherCa_IsRefused()
    {
        await using var server = await TlsServer.StartAsync(_server);
        var files = _otherCa.Write(_dir.Path, "other-client", _otherCa.Client(), _ca);
        using var client = TlsClient.Create(server.Dial(), files);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(await server.LogWithAsync("refused a TLS client"),
            Does.Match("refused a TLS client: the certificate CN=loopvol controller does not chain to a CA of the bundle \\((PartialChain|UntrustedRoot)\\)"));
    }

    [Test]
    public async Task ClientTrustingOnlyAnotherCa_RefusesTheServer()
    {
        await using var server = await TlsServer.StartAsync(_server);
        using var client = TlsClient.Create(server.Dial(), _client with { CaFile = _otherCa.Write(_dir.Path, "other", _otherCa.Client(), _otherCa).CaFile });

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(client.Logs.AllText,
            Does.Match("refused the TLS server 127.0.0.1: the certificate CN=loopvol agent does not chain to a CA of the bundle \\((PartialChain|UntrustedRoot)\\)"));
    }

    [Test]
    public async Task ServerCertificateFromAnotherCa_IsRefusedByTheClient()
    {
        await using var server = await TlsServer.StartAsync(_otherCa.Write(_dir.Path, "other-server", _otherCa.Server(["127.0.0.1"]), _ca));
        using var client = TlsClient.Create(server.Dial(), _client);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(client.Logs.AllText,
            Does.Match("refused the TLS server 127.0.0.1: the certificate CN=loopvol agent does not chain to a CA of the bundle \\((PartialChain|UntrustedRoot)\\)"));
    }

    [Test]
    public async Task ExpiredClientCertificate_IsRefused()
    {
        var now = DateTimeOffset.UtcNow;
        var files = _ca.Write(_dir.Path, "expired-client", _ca.Client(notBefore: now.AddDays(-2), notAfter: now.AddDays(-1)), _ca);
        await using var server = await TlsServer.StartAsync(_server);
        // Loaded as of a time it was valid: TlsFiles itself refuses an expired certificate.
        using var client = TlsClient.Create(server.Dial(), files, new FixedClock(now.AddHours(-36)));

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(await server.LogWithAsync("refused a TLS client"), Does.Contain("the certificate CN=loopvol controller is expired or not yet valid, or its issuer is (NotTimeValid)"));
    }

    [Test]
    public async Task ClientCertificateForServersOnly_IsRefused()
    {
        var files = _ca.Write(_dir.Path, "server-as-client", _ca.Server(["127.0.0.1"], KeyKind.Ecdsa), _ca);
        await using var server = await TlsServer.StartAsync(_server);
        using var client = TlsClient.Create(server.Dial(), files);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(await server.LogWithAsync("refused a TLS client"), Does.Contain("the certificate CN=loopvol agent does not allow this use by its extended key usage (NotValidForUsage)"));
    }

    [Test]
    public async Task ServerCertificateForAnotherName_IsRefusedByTheClient()
    {
        var files = _ca.Write(_dir.Path, "elsewhere", _ca.Server(["10.11.12.13", "agent-7.example"]), _ca);
        await using var server = await TlsServer.StartAsync(files);
        using var client = TlsClient.Create(server.Dial(), _client);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(client.Logs.AllText, Does.Contain("refused the TLS server 127.0.0.1: the certificate CN=loopvol agent is not for 127.0.0.1"));
    }

    [Test]
    public async Task ServerNamingTheHostOnlyInItsSubject_IsRefusedByTheClient()
    {
        var files = _ca.Write(_dir.Path, "common-name", _ca.Issue("localhost", KeyKind.Rsa, TlsMaterial.ServerAuthentication, []), _ca);
        await using var server = await TlsServer.StartAsync(files);
        using var client = TlsClient.Create(server.Dial("localhost"), _client);

        var error = Assert.ThrowsAsync<RpcException>(client.GetPluginInfoAsync);

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(client.Logs.AllText, Does.Contain("refused the TLS server localhost: the certificate CN=localhost names localhost only in its subject, not as a subject alternative name"));
    }

    [Test]
    public async Task CertificatesIssuedByAnIntermediate_AreSentWithTheirChain_AndServed()
    {
        var intermediate = _ca.CreateIntermediate("loopvol intermediate");
        var serverFiles = intermediate.Write(_dir.Path, "server-via-intermediate", intermediate.Server(["127.0.0.1"]), _ca);
        var clientFiles = intermediate.Write(_dir.Path, "client-via-intermediate", intermediate.Client(), _ca);
        await using var server = await TlsServer.StartAsync(serverFiles);
        using var client = TlsClient.Create(server.Dial(), clientFiles);

        var info = await client.GetPluginInfoAsync();

        Assert.That(info.Name, Is.EqualTo(TlsServer.DriverName), "each side trusts the root only, so each sent the intermediate");
    }

    [Test]
    public async Task BundleOfTwoCas_ServesClientsOfEither()
    {
        var files = _ca.Write(_dir.Path, "server-two-cas", _ca.Server(["127.0.0.1"]), _ca, _otherCa);
        await using var server = await TlsServer.StartAsync(files);
        using var ours = TlsClient.Create(server.Dial(), _client);
        using var theirs = TlsClient.Create(server.Dial(), _otherCa.Write(_dir.Path, "their-client", _otherCa.Client(), _ca));

        Assert.That((await ours.GetPluginInfoAsync()).Name, Is.EqualTo(TlsServer.DriverName));
        Assert.That((await theirs.GetPluginInfoAsync()).Name, Is.EqualTo(TlsServer.DriverName));
    }

    [Test]
    public async Task CleartextClient_AgainstTheTlsPort_Fails()
    {
        await using var server = await TlsServer.StartAsync(_server);
        using var channel = CsiChannel.Create(server.Dial());

        var error = Assert.ThrowsAsync<RpcException>(() => TlsClient.GetPluginInfoAsync(channel));

        Assert.That(error!.StatusCode, Is.AnyOf(StatusCode.Unavailable, StatusCode.Internal));
        Assert.That(server.Served, Is.False);
        Assert.That(await server.LogWithAsync("Failed to authenticate HTTPS connection"),
            Does.Contain("HttpsConnectionMiddleware Failed to authenticate HTTPS connection"), "the preface is no TLS handshake");
    }

    [Test]
    public void TlsWithAUnixSocketEndpoint_IsRefusedWhenBuilt()
    {
        using var tls = _server.Load();
        using var tracker = new CallTracker();
        var endpoint = GrpcEndpoint.Unix(Path.Combine(_dir.Path, "csi.sock"));
        var identity = new IdentityService(new DriverIdentity(TlsServer.DriverName, "1"), [], [],
            NullLogger<IdentityService>.Instance);

        var server = Assert.Throws<ArgumentException>(() => CsiServer.Create(endpoint, new CsiServices(identity),
            new CsiServerOptions { Tls = tls }, tracker, NullLoggerFactory.Instance));
        var channel = Assert.Throws<ArgumentException>(() => CsiChannel.Create(endpoint, tls));

        Assert.That(server!.Message, Does.StartWith($"TLS is for a TCP endpoint: {endpoint} is a Unix socket"));
        Assert.That(channel!.Message, Does.StartWith($"TLS is for a TCP endpoint: {endpoint} is a Unix socket"));
        Assert.That(File.Exists(endpoint.SocketPath), Is.False);
    }
}
