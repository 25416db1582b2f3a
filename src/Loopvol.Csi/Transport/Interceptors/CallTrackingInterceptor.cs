using Grpc.Core;
using Grpc.Core.Interceptors;
using Loopvol.Core.Concurrency;

namespace Loopvol.Csi.Transport.Interceptors;

/// <summary>
/// The innermost interceptor: registers each handler with the <see cref="CallTracker"/> while it runs, and hands it
/// a token that shutdown cancels too, so no handler outlives the journal it writes to.
/// </summary>
public sealed class CallTrackingInterceptor(CallTracker tracker) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request,
        ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var call = tracker.Enter(context.CancellationToken);
        return await continuation(request, new TrackedCallContext(context, call.Token)).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = tracker.Enter(context.CancellationToken);
        await continuation(request, responseStream, new TrackedCallContext(context, call.Token)).ConfigureAwait(false);
    }
}
