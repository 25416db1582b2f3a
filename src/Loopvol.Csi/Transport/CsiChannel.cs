using System.Net.Sockets;
using Grpc.Net.Client;

namespace Loopvol.Csi.Transport;

/// <summary>
/// Client channels to a CSI endpoint with Grpc.Net.Client: HTTP/2 cleartext on a Unix socket (the CSI convention)
/// or TCP. Used by the benchmark, the tests and every driver-to-driver call.
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
