using System.Net;
using Grpc.Reflection;
using Grpc.Reflection.V1Alpha;
using Loopvol.Core.Concurrency;
using Loopvol.Core.Native;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport.Interceptors;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Csi.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Loopvol.Csi.Transport;

/// <summary>
/// The CSI services on Grpc.AspNetCore and Kestrel, HTTP/2 cleartext, on one Unix socket or TCP endpoint; or, on
/// TCP with <see cref="CsiServerOptions.Tls"/>, HTTP/2 over mutual TLS. Start it, and stop it gracefully: stopping
/// refuses new calls, lets in-flight ones finish within <see cref="CsiServerOptions.ShutdownTimeout"/>, then removes
/// the socket file it made, and no other.
/// </summary>
public sealed class CsiServer : IAsyncDisposable
{
    private static readonly SemaphoreSlim UmaskGate = new(1, 1);
    private readonly WebApplication _app;
    private readonly CsiServerOptions _options;
    private readonly ILogger _logger;
    private int _stopped;
    private SocketIdentity? _bound;

    private CsiServer(WebApplication app, GrpcEndpoint endpoint, CsiServerOptions options, ILogger logger)
    {
        _app = app;
        Endpoint = endpoint;
        _options = options;
        _logger = logger;
    }

    /// <summary>The endpoint served; for TCP port 0, the port actually bound once started.</summary>
    public GrpcEndpoint Endpoint { get; private set; }

    /// <summary>
    /// Builds the server without listening yet. <paramref name="tracker"/> sees every handler at work. Throws
    /// <see cref="ArgumentException"/> for TLS material with a Unix socket endpoint.
    /// </summary>
    public static CsiServer Create(GrpcEndpoint endpoint, CsiServices services, CsiServerOptions options,
        CallTracker tracker, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Tls is not null && endpoint.IsUnix)
        {
            throw new ArgumentException(
                $"TLS is for a TCP endpoint: {endpoint} is a Unix socket, which its clients reach locally without TLS; " +
                "serve TLS on tcp://HOST:PORT, or leave the TLS files out", nameof(options));
        }
        var logger = loggerFactory.CreateLogger(TransportLog.Category);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(tracker);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddRouting();
        // Interceptors live as long as the server; otherwise Grpc.AspNetCore makes new ones for every call.
        builder.Services.AddSingleton<CallLoggingInterceptor>();
        builder.Services.AddSingleton<ErrorMappingInterceptor>();
        builder.Services.AddSingleton<CallTrackingInterceptor>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = null;
            grpc.EnableDetailedErrors = false;
            // Unknown services and methods reach UnknownMethods, which names them in its answer.
            grpc.IgnoreUnknownServices = true;
            // Outermost first: logging sees the status the mapping decided; tracking wraps the handler itself.
            grpc.Interceptors.Add<CallLoggingInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.Interceptors.Add<CallTrackingInterceptor>();
        });
        if (options.EnableReflection)
        {
            // Described from the generated descriptors, not found by reflection over types: native AOT keeps it whole.
            builder.Services.AddSingleton(new ReflectionServiceImpl(Reflected(services)));
        }
        AddServices(builder.Services, services);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
            Listen(kestrel, endpoint, listen => Secure(listen, options.Tls, logger));
        });
        var app = builder.Build();
        app.UseRouting();
        MapServices(app, services);
        if (options.EnableReflection)
        {
            app.MapGrpcService<ReflectionServiceImpl>();
        }
        app.MapFallback("{**path}", UnknownMethods.AnswerAsync);
        return new CsiServer(app, endpoint, options, logger);
    }

    private static void AddServices(IServiceCollection di, CsiServices services)
    {
        di.AddSingleton(services.Identity);
        if (services.Controller is { } controller)
        {
            di.AddSingleton(controller);
        }
        if (services.Node is { } node)
        {
            di.AddSingleton(node);
        }
        if (services.GroupController is { } groups)
        {
            di.AddSingleton(groups);
        }
        if (services.SnapshotMetadata is { } metadata)
        {
            di.AddSingleton(metadata);
        }
        if (services.Agent is { } agent)
        {
            di.AddSingleton(agent);
        }
        foreach (var other in services.Others)
        {
            other.Add(di);
        }
    }

    /// <summary>The services this server maps, and the reflection service itself, as grpcurl lists them.</summary>
    private static IEnumerable<ServiceDescriptor> Reflected(CsiServices services)
    {
        yield return Identity.Descriptor;
        if (services.Controller is not null)
        {
            yield return Controller.Descriptor;
        }
        if (services.Node is not null)
        {
            yield return Node.Descriptor;
        }
        if (services.GroupController is not null)
        {
            yield return GroupController.Descriptor;
        }
        if (services.SnapshotMetadata is not null)
        {
            yield return SnapshotMetadata.Descriptor;
        }
        if (services.Agent is not null)
        {
            yield return Agent.V1.Agent.Descriptor;
        }
        foreach (var other in services.Others)
        {
            yield return other.Descriptor;
        }
        yield return ServerReflection.Descriptor;
    }

    private static void MapServices(WebApplication app, CsiServices services)
    {
        app.MapGrpcService<IdentityService>();
        if (services.Controller is not null)
        {
            app.MapGrpcService<ControllerService>();
        }
        if (services.Node is not null)
        {
            app.MapGrpcService<NodeService>();
        }
        if (services.GroupController is not null)
        {
            app.MapGrpcService<GroupControllerService>();
        }
        if (services.SnapshotMetadata is not null)
        {
            app.MapGrpcService<SnapshotMetadataService>();
        }
        if (services.Agent is not null)
        {
            app.MapGrpcService<AgentService>();
        }
        foreach (var other in services.Others)
        {
            other.Map(app);
        }
    }

    private static void Listen(KestrelServerOptions kestrel, GrpcEndpoint endpoint, Action<ListenOptions> configure)
    {
        if (endpoint.SocketPath is { } path)
        {
            kestrel.ListenUnixSocket(path, configure);
        }
        else if (IPAddress.TryParse(endpoint.Host, out var address))
        {
            kestrel.Listen(address, endpoint.Port, configure);
        }
        else
        {
            kestrel.ListenLocalhost(endpoint.Port, configure);
        }
    }

    /// <summary>HTTP/2 on every listener: cleartext (h2c), or over mutual TLS when there is TLS material.</summary>
    private static void Secure(ListenOptions listen, TlsMaterial? tls, ILogger logger)
    {
        if (tls is null)
        {
            listen.Protocols = HttpProtocols.Http2;
        }
        else
        {
            ServerTls.Use(listen, tls, logger);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Endpoint.SocketPath is { } path)
        {
            UnixSocketFile.Prepare(path, _logger);
            // The umask is the process's: one server at a time may change it.
            await UmaskGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            var previous = SocketFiles.Umask(UnixSocketFile.BindUmask);
            try
            {
                await _app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                SocketFiles.Umask(previous);
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
        TransportLog.Listening(_logger, Endpoint.ToString(), _options.Tls is null ? "" : " with mutual TLS",
            _options.EnableReflection ? " (with server reflection)" : "");
    }

    /// <summary>Stops gracefully; a second call does nothing.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        TransportLog.Stopping(_logger, _options.ShutdownTimeout.TotalSeconds);
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
                TransportLog.Stopped(_logger, path);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
