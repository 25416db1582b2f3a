using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Loopvol.Grpc.Internal;

/// <summary>
/// The request delegate for every gRPC call: checks the HTTP/2 request, finds the route, runs the handler under
/// the call's deadline and cancellation, and ends the call with a status. <see cref="ProcessHandlerError"/> is the
/// one place where exceptions become statuses.
/// </summary>
internal sealed class CallDispatcher(RouteTable routes, GrpcServerOptions options, ILogger logger)
{
    public async Task HandleAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var request = http.Request;
        var path = request.Path.Value ?? "";
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (!GrpcHeaders.IsGrpcContentType(request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var headerStatus = ReadCallHeaders(request, out var timeout);
        DateTimeOffset? deadline = timeout is { } t ? DateTimeOffset.UtcNow + t : null;
        if (timeout is { } after)
        {
            cts.CancelAfter(after);
        }
        var context = new CallContext(path, deadline, cts.Token, CopyHeaders(request.Headers));
        var call = new ServerCall(http, context, options, logger);
        var route = routes.Find(path);
        Task? handler = null;
        var abandoned = false;
        Status status;
        try
        {
            if (headerStatus is { } rejected)
            {
                status = rejected;
            }
            else if (route is null)
            {
                status = new Status(StatusCode.Unimplemented, routes.IsDeclared(path)
                    ? $"method {path} is not implemented by this driver"
                    : $"unknown method {path}");
            }
            else
            {
                handler = route.InvokeAsync(call);
                Observe(handler, path, () => abandoned);
                await handler.WaitAsync(cts.Token).ConfigureAwait(false);
                status = Status.Ok;
            }
        }
        catch (Exception e)
        {
            status = ProcessHandlerError(e, path, http.RequestAborted.IsCancellationRequested,
                cts.IsCancellationRequested);
        }

        if (http.RequestAborted.IsCancellationRequested)
        {
            await call.AbandonAsync().ConfigureAwait(false);
            status = new Status(StatusCode.Cancelled, "the call was cancelled: the client left or the server stopped");
        }
        else
        {
            await call.EndAsync(status).ConfigureAwait(false);
        }
        abandoned = handler is { IsCompleted: false };
        LogFinished(path, status, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Turns what a handler threw into the status the client is sent.</summary>
    private Status ProcessHandlerError(Exception e, string path, bool clientGone, bool callCancelled)
    {
        if (clientGone)
        {
            return new Status(StatusCode.Cancelled, "the client cancelled the call");
        }
        if (e is OperationCanceledException && callCancelled)
        {
            return new Status(StatusCode.DeadlineExceeded, "the call's deadline passed before it completed");
        }
        if (e is RpcException rpc)
        {
            return rpc.Status;
        }
        if (options.ExceptionMapper?.Map(e) is { } mapped)
        {
            return mapped;
        }
        Log.UnexpectedError(logger, path, e);
        return new Status(StatusCode.Internal, $"internal error in {path}; the driver's log has the details");
    }

    /// <summary>Checks grpc-timeout and grpc-encoding; returns the status to answer when one is unacceptable.</summary>
    private static Status? ReadCallHeaders(HttpRequest request, out TimeSpan? timeout)
    {
        timeout = null;
        var timeoutHeader = request.Headers[GrpcHeaders.Timeout];
        if (!StringValues.IsNullOrEmpty(timeoutHeader))
        {
            if (!GrpcTimeout.TryParse(timeoutHeader.ToString(), out var parsed))
            {
                return new Status(StatusCode.Internal, $"malformed grpc-timeout header '{timeoutHeader}'");
            }
            timeout = parsed;
        }
        var encoding = request.Headers[GrpcHeaders.Encoding].ToString();
        if (!GrpcHeaders.IsSupportedEncoding(encoding))
        {
            request.HttpContext.Response.Headers[GrpcHeaders.AcceptEncoding] = GrpcHeaders.SupportedEncodings;
            return new Status(StatusCode.Unimplemented,
                $"grpc-encoding '{encoding}' is not supported; supported: {GrpcHeaders.SupportedEncodings}");
        }
        return null;
    }

    private static Dictionary<string, StringValues> CopyHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, StringValues>(headers.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            copy[name] = value;
        }
        return copy;
    }

    /// <summary>
    /// Observes every handler's exception, so none goes unobserved; one that fails after its call was answered
    /// (deadline, cancellation) is logged, since nobody else will see it.
    /// </summary>
    private void Observe(Task handler, string path, Func<bool> abandoned) =>
        handler.ContinueWith(t =>
            {
                if (t.Exception?.GetBaseException() is { } e and not OperationCanceledException && abandoned())
                {
                    Log.AbandonedHandlerFailed(logger, path, e);
                }
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private void LogFinished(string path, Status status, TimeSpan elapsed)
    {
        var detail = status.Detail.Length == 0 ? "" : ": " + status.Detail;
        if (options.QuietMethods.Contains(path))
        {
            Log.QuietCallFinished(logger, path, status.Code, elapsed.TotalMilliseconds, detail);
        }
        else
        {
            Log.CallFinished(logger, path, status.Code, elapsed.TotalMilliseconds, detail);
        }
    }
}
