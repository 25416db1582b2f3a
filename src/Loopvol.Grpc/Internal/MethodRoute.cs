using Google.Protobuf;

namespace Loopvol.Grpc.Internal;

/// <summary>One handled method: reads its request, runs its handler, writes its response messages.</summary>
internal abstract class MethodRoute(string path)
{
    public string Path { get; } = path;

    public abstract Task InvokeAsync(ServerCall call);
}

internal sealed class UnaryRoute<TRequest, TResponse>(string path, Func<TRequest, CallContext, Task<TResponse>> handler)
    : MethodRoute(path)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    public override async Task InvokeAsync(ServerCall call)
    {
        var request = await call.ReadSingleRequestAsync(Parser).ConfigureAwait(false);
        var response = await handler(request, call.Context).ConfigureAwait(false);
        call.LogResponse(response);
        await call.WriteMessageAsync(response).ConfigureAwait(false);
    }
}

internal sealed class ServerStreamingRoute<TRequest, TResponse>(string path,
    Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
    : MethodRoute(path)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(() => new TRequest());

    public override async Task InvokeAsync(ServerCall call)
    {
        var request = await call.ReadSingleRequestAsync(Parser).ConfigureAwait(false);
        await handler(request, new Writer(call), call.Context).ConfigureAwait(false);
    }

    private sealed class Writer(ServerCall call) : IServerStreamWriter<TResponse>
    {
        public Task WriteAsync(TResponse message) => call.WriteMessageAsync(message);
    }
}
