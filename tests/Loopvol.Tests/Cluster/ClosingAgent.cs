using System.Net.Sockets;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Fault injection: a Unix socket that takes each HTTP/2 connection's first request, then answers it with a GOAWAY
/// (NO_ERROR, the request's stream included) and closes the connection unanswered, as an agent's server may when it
/// stops just as a call arrives. It counts the connections it was offered.
/// </summary>
internal sealed class ClosingAgent : IAsyncDisposable
{
    private static readonly byte[] Greeting =
    [
        0, 0, 0, 0x4, 0, 0, 0, 0, 0, // SETTINGS, empty, stream 0
        0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, // GOAWAY, every stream, NO_ERROR
    ];

    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;

    public ClosingAgent(string path)
    {
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen();
        _accepting = AcceptAsync();
    }

    public int Connections => Volatile.Read(ref _connections);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var connection = await _listener.AcceptAsync(_stop.Token);
            Interlocked.Increment(ref _connections);
            await ReadToFirstRequestAsync(connection);
            await connection.SendAsync(Greeting, SocketFlags.None, _stop.Token);
            connection.Shutdown(SocketShutdown.Both);
        }
    }

    /// <summary>Reads the client's preface and frames up to its first HEADERS frame.</summary>
    private async Task ReadToFirstRequestAsync(Socket connection)
    {
        var received = new List<byte>();
        var buffer = new byte[4096];
        var at = 24;
        while (true)
        {
            while (received.Count >= at + 9)
            {
                if (received[at + 3] == 0x1)
                {
                    return;
                }
                at += 9 + ((received[at] << 16) | (received[at + 1] << 8) | received[at + 2]);
            }
            var read = await connection.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            if (read == 0)
            {
                return;
            }
            received.AddRange(buffer.AsSpan(0, read));
        }
    }
}
