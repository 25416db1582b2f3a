using System.Globalization;
using Loopvol.Core.Errors;
using Loopvol.Csi.Errors;
using Loopvol.Grpc;
using Loopvol.Grpc.Client;
using Loopvol.Tests.Support;
using Loopvol.Tests.Transport.Echo;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Transport;

/// <summary>The real transport on a temp Unix socket, serving the test Echo service, with hooks to observe handlers.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ILoggerFactory _loggers;
    private int _inFlight;

    private EchoServer(GrpcServerOptions? options)
    {
        _loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        Logs = logs;
        var registry = new GrpcServiceRegistry([EchoReflection.Descriptor.Services[0]])
            .MapUnary<EchoRequest, EchoReply>(Method("Unary"), UnaryAsync)
            .MapServerStreaming<EchoRequest, EchoReply>(Method("Stream"), StreamAsync);
        options ??= new GrpcServerOptions();
        options = new GrpcServerOptions
        {
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            ShutdownTimeout = options.ShutdownTimeout,
            MaxStreamsPerConnection = options.MaxStreamsPerConnection,
            ExceptionMapper = new CsiExceptionMapper(),
        };
        Endpoint = GrpcEndpoint.Unix(_dir.Combine("csi.sock"));
        Server = GrpcServer.Create(Endpoint, registry, options, _loggers);
    }

    public GrpcEndpoint Endpoint { get; }

    public GrpcServer Server { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Completed with the handler's token state each time a handler finishes waiting.</summary>
    public TaskCompletionSource<bool> HandlerCancelled { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when a handler starts; tests use it to know a call is in flight.</summary>
    public TaskCompletionSource HandlerStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, every unary handler waits until this many are in flight at once.</summary>
    public int Rendezvous { get; set; }

    public TaskCompletionSource AllArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int PeakInFlight { get; private set; }

    public static Google.Protobuf.Reflection.MethodDescriptor Method(string name) =>
        EchoReflection.Descriptor.Services[0].FindMethodByName(name);

    public static async Task<EchoServer> StartAsync(GrpcServerOptions? options = null)
    {
        var server = new EchoServer(options);
        await server.Server.StartAsync();
        return server;
    }

    public GrpcClient Client() => new(Endpoint);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _loggers.Dispose();
        _dir.Dispose();
    }

    private async Task<EchoReply> UnaryAsync(EchoRequest request, CallContext context)
    {
        var now = Interlocked.Increment(ref _inFlight);
        try
        {
            PeakInFlight = Math.Max(PeakInFlight, now);
            HandlerStarted.TrySetResult();
            if (Rendezvous > 0)
            {
                if (now >= Rendezvous)
                {
                    AllArrived.TrySetResult();
                }
                await AllArrived.Task.WaitAsync(context.CancellationToken);
            }
            await WaitAsync(request, context);
            Fail(request.FailWith);
            return new EchoReply { Text = request.Text, PayloadSize = request.Payload.Length };
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task StreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> writer, CallContext context)
    {
        HandlerStarted.TrySetResult();
        for (var i = 0; i < request.Count; i++)
        {
            await writer.WriteAsync(new EchoReply { Text = request.Text, Index = i });
        }
        await WaitAsync(request, context);
        Fail(request.FailWith);
    }

    private async Task WaitAsync(EchoRequest request, CallContext context)
    {
        if (request.DelayMs <= 0)
        {
            return;
        }
        try
        {
            await Task.Delay(request.DelayMs, request.IgnoreCancellation ? default : context.CancellationToken);
        }
        finally
        {
            HandlerCancelled.TrySetResult(context.CancellationToken.IsCancellationRequested);
        }
    }

    private static void Fail(string failWith)
    {
        switch (failWith.Split(':', 3))
        {
            case ["rpc", var code, var detail]:
                throw new RpcException((StatusCode)int.Parse(code, CultureInfo.InvariantCulture), detail);
            case ["unexpected"]:
                throw new InvalidOperationException("secret internal detail");
            case ["domain"]:
                throw new NotFoundException("volume_id vol-1 does not exist");
            default:
                return;
        }
    }
}
