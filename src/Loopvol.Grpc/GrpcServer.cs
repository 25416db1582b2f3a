using System.Net;
using Loopvol.Grpc.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Loopvol.Grpc;

/// <summary>
/// A gRPC server on Kestrel, HTTP/2 cleartext only, on one endpoint. Start it, and stop it gracefully: stopping
/// refuses new calls, lets in-flight ones finish within <see cref="GrpcServerOptions.ShutdownTimeout"/>, then
/// removes the socket file.
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;
    private static readonly SemaphoreSlim UmaskGate = new(1, 1);
    private int _stopped;
    private SocketIdentity? _bound;

    private GrpcServer(WebApplication app, GrpcEndpoint endpoint, GrpcServerOptions options, ILogger logger)
    {
        _app = app;
        Endpoint = endpoint;
        _options = options;
        _logger = logger;
    }

    /// <summary>The endpoint served; for TCP port 0, the port actually bound once started.</summary>
    public GrpcEndpoint Endpoint { get; private set; }

    public static GrpcServer Create(GrpcEndpoint endpoint, GrpcServiceRegistry registry, GrpcServerOptions options,
        ILoggerFactory loggerFactory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null; // Messages are limited one by one, by the framing.
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
            if (endpoint.IsUnix)
            {
                kestrel.ListenUnixSocket(endpoint.SocketPath!, l => l.Protocols = HttpProtocols.Http2);
            }
            else if (IPAddress.TryParse(endpoint.Host, out var address))
            {
                kestrel.Listen(address, endpoint.Port, l => l.Protocols = HttpProtocols.Http2);
            }
            else
            {
                kestrel.ListenLocalhost(endpoint.Port, l => l.Protocols = HttpProtocols.Http2);
            }
        });
        var app = builder.Build();
        var logger = loggerFactory.CreateLogger("Loopvol.Grpc");
        var dispatcher = new CallDispatcher(registry.Build(), options, logger);
        app.Run(dispatcher.HandleAsync);
        return new GrpcServer(app, endpoint, options, logger);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Endpoint.SocketPath is { } path)
        {
            UnixSocketFile.Prepare(path, _logger);
            // The umask is the process's: one server at a time may change it.
            await UmaskGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            var previous = Native.Umask(UnixSocketFile.BindUmask);
            try
            {
                await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Native.Umask(previous);
                UmaskGate.Release();
            }
            File.SetUnixFileMode(path, UnixSocketFile.Mode);
            _bound = SocketIdentity.Of(path);
        }
        else
        {
            await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            var bound = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?
                .Addresses.FirstOrDefault();
            if (bound is not null && Uri.TryCreate(bound, UriKind.Absolute, out var uri))
            {
                Endpoint = GrpcEndpoint.Tcp(Endpoint.Host!, uri.Port);
            }
        }
        Log.Listening(_logger, Endpoint.ToString());
    }

    /// <summary>Stops gracefully; a second call does nothing.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        Log.Stopping(_logger, _options.ShutdownTimeout.TotalSeconds);
        using var timeout = new CancellationTokenSource(_options.ShutdownTimeout);
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            // Only the socket this server bound: never one it failed to replace, nor a successor's at the path.
            if (Endpoint.SocketPath is { } path && _bound is { } bound)
            {
                UnixSocketFile.RemoveIfSame(path, bound);
                Log.Stopped(_logger, path);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
