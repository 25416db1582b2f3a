using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Transport;

/// <summary>
/// The real CSI server with the real Identity service over mutual TLS on a loopback port, with its log kept, so a
/// test can tell whether a handler ran.
/// </summary>
public sealed class TlsServer : IAsyncDisposable
{
    public const string DriverName = "tls.loopvol.example.org";

    private readonly ILoggerFactory _loggers;
    private readonly CallTracker _tracker;
    private readonly TlsMaterial _tls;

    private TlsServer(CsiServer server, CapturingLoggerProvider logs, ILoggerFactory loggers, CallTracker tracker,
        TlsMaterial tls)
    {
        Server = server;
        Logs = logs;
        _loggers = loggers;
        _tracker = tracker;
        _tls = tls;
    }

    public CsiServer Server { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Whether any call reached a handler: the call logging interceptor logs every one it sees.</summary>
    public bool Served => Logs.AllText.Contains("GetPluginInfo answered", StringComparison.Ordinal);

    public static async Task<TlsServer> StartAsync(TlsFiles files, string host = "127.0.0.1")
    {
        var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var tracker = new CallTracker();
        var tls = files.Load();
        var identity = new IdentityService(new DriverIdentity(DriverName, "1"), [], [],
            loggers.CreateLogger<IdentityService>());
        var server = CsiServer.Create(GrpcEndpoint.Tcp(host, 0), new CsiServices(identity),
            new CsiServerOptions { Tls = tls }, tracker, loggers);
        await server.StartAsync();
        return new TlsServer(server, logs, loggers, tracker, tls);
    }

    /// <summary>The server's port at <paramref name="host"/>.</summary>
    public GrpcEndpoint Dial(string host = "127.0.0.1") => GrpcEndpoint.Tcp(host, Server.Endpoint.Port);

    /// <summary>Waits until the log holds <paramref name="text"/> (a handshake may end on the client first).</summary>
    public async Task<string> LogWithAsync(string text)
    {
        for (var waited = 0; waited < 100 && !Logs.AllText.Contains(text, StringComparison.Ordinal); waited++)
        {
            await Task.Delay(50);
        }
        return Logs.AllText;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _tls.Dispose();
        _tracker.Dispose();
        _loggers.Dispose();
    }
}
