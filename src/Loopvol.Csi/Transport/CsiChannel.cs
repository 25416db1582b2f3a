using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Grpc.Net.Client;
using Loopvol.Csi.Transport.Tls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Csi.Transport;

/// <summary>
/// Client channels to a CSI endpoint with Grpc.Net.Client: HTTP/2 cleartext on a Unix socket (the CSI convention)
/// or TCP, and HTTP/2 over mutual TLS to a TCP endpoint (a node's agent endpoint). Used by the benchmark, the tests
/// and every driver-to-driver call.
/// </summary>
public static class CsiChannel
{
    /// <summary>Largest response message a client accepts by default; CSI list responses can be large.</summary>
    public const int DefaultMaxReceiveMessageSize = 64 * 1024 * 1024;

    /// <summary>A channel to <paramref name="endpoint"/>; dispose it when done.</summary>
    public static GrpcChannel Create(GrpcEndpoint endpoint, int maxReceiveMessageSize = DefaultMaxReceiveMessageSize)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var address = endpoint.IsUnix ? "http://localhost" : $"http://{FormatHost(endpoint.Host!)}:{endpoint.Port}";
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = Handler(endpoint),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxReceiveMessageSize,
        });
    }

    /// <summary>
    /// A channel over mutual TLS to <c>https://HOST:PORT</c> of the TCP <paramref name="endpoint"/>; dispose it when
    /// done. The client presents <see cref="TlsMaterial.Certificate"/> and accepts the server only when its chain
    /// ends in <see cref="TlsMaterial.TrustAnchors"/> (and nowhere else), and one of its subject alternative names
    /// (DNS or IP) is the host dialled. A refused server fails the call before any request is sent (Grpc.Net.Client
    /// answers INTERNAL for a failed TLS authentication, which no retry policy repeats) and is logged to
    /// <paramref name="logger"/> with the reason; a server that refuses this client fails it UNAVAILABLE. With a
    /// <paramref name="serverName"/>, that name, not the host dialled, is what the server's certificate must carry (and
    /// what the client asks for by SNI): agents are dialled by pod IPs no certificate can know in advance. Throws
    /// <see cref="ArgumentException"/> for a Unix socket endpoint.
    /// </summary>
    public static GrpcChannel Create(GrpcEndpoint endpoint, TlsMaterial tls, ILogger? logger = null,
        int maxReceiveMessageSize = DefaultMaxReceiveMessageSize, string? serverName = null)
    {
        var handler = Handler(endpoint, tls, logger, serverName);
        return GrpcChannel.ForAddress($"https://{FormatHost(endpoint.Host!)}:{endpoint.Port}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxReceiveMessageSize,
            // A peer that restarts (a node agent) is dialled again within a second or two, not after gRPC's default
            // backoff of up to two minutes, during which every call to it would fail at once.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(100),
            MaxReconnectBackoff = TimeSpan.FromSeconds(2),
        });
    }

    /// <summary>The HTTP handler under a mutual TLS channel (see <see cref="Create(GrpcEndpoint, TlsMaterial, ILogger?, int, string?)"/>).</summary>
    public static SocketsHttpHandler Handler(GrpcEndpoint endpoint, TlsMaterial tls, ILogger? logger = null,
        string? serverName = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(tls);
        if (endpoint.IsUnix)
        {
            throw new ArgumentException(
                $"TLS is for a TCP endpoint: {endpoint} is a Unix socket, reached locally without TLS", nameof(endpoint));
        }
        var host = serverName ?? endpoint.Host!;
        var handler = Handler(endpoint);
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            ClientCertificateContext = SslStreamCertificateContext.Create(tls.Certificate, tls.Intermediates, offline: true),
            CertificateChainPolicy = tls.ChainPolicy(TlsMaterial.ServerAuthentication),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                // SocketsHttpHandler checks the name dialled, whatever TargetHost says; with a server name, that name
                // alone counts, and Refusal checks it among the subject alternative names.
                var found = serverName is null ? errors : errors & ~SslPolicyErrors.RemoteCertificateNameMismatch;
                if (PeerCertificate.Refusal(certificate, chain, found, host) is { } reason)
                {
                    TransportLog.ServerRefused(logger ?? NullLogger.Instance, host, reason);
                    return false;
                }
                return true;
            },
        };
        return handler;
    }

    /// <summary>The HTTP handler under a channel: it connects to the Unix socket itself when the endpoint is one.</summary>
    public static SocketsHttpHandler Handler(GrpcEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        if (endpoint.SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return handler;
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
}
