using Grpc.Core;
using Grpc.Core.Interceptors;
using Loopvol.Csi.Errors;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport.Interceptors;

/// <summary>
/// The one place where what a handler threw becomes the status its caller sees: typed domain errors through
/// <see cref="CsiExceptionMapper"/>, a cancelled call as DEADLINE_EXCEEDED or CANCELLED, anything else INTERNAL
/// with the details in the log only.
/// </summary>
public sealed class ErrorMappingInterceptor(ILoggerFactory loggers) : Interceptor
{
    private readonly ILogger _logger = loggers.CreateLogger(TransportLog.Category);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request,
        ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception e) when (IsMapped(e))
        {
            throw ToRpc(e, context);
        }
    }

    /// <summary>
    /// A streaming call maps its errors as a unary one does; what was written before the error stays written, and the
    /// status ends the stream.
    /// </summary>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception e) when (IsMapped(e))
        {
            throw ToRpc(e, context);
        }
    }

    /// <summary>What <see cref="ToRpc"/> maps: anything but a status a handler chose, and the bare UNIMPLEMENTED of a
    /// method the generated base declares and this driver does not serve.</summary>
    private static bool IsMapped(Exception e) =>
        e is not RpcException rpc || (rpc.StatusCode == StatusCode.Unimplemented && rpc.Status.Detail.Length == 0);

    private RpcException ToRpc(Exception e, ServerCallContext context)
    {
        if (e is RpcException)
        {
            return new RpcException(new Status(StatusCode.Unimplemented,
                $"method {context.Method} is not implemented by this driver"));
        }
        if (e is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return context.Deadline <= DateTime.UtcNow
                ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed before it completed"))
                : new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled: the client left or the driver is stopping"));
        }
        if (CsiExceptionMapper.Map(e) is { } status)
        {
            return new RpcException(status);
        }
        TransportLog.UnexpectedError(_logger, context.Method, e);
        return new RpcException(new Status(StatusCode.Internal,
            $"internal error in {context.Method}; the driver's log has the details"));
    }
}
