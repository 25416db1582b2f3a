using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Loopvol.Grpc.Internal;

/// <summary>
/// One call in flight: its request body, its response, and whether the response is still ours to write.
/// Once the call has ended (finished, deadline, cancellation) further writes fail without touching the
/// connection, so a handler that outlives its call can never write into another request's response.
/// </summary>
internal sealed class ServerCall(HttpContext http, CallContext context, GrpcServerOptions options, ILogger logger)
{
    private const int CancelErrorCode = 8;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _ended;

    public CallContext Context { get; } = context;

    public HttpContext Http => http;

    public async ValueTask<T> ReadSingleRequestAsync<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        var reader = http.Request.BodyReader;
        var encoding = http.Request.Headers[GrpcHeaders.Encoding].ToString();
        var token = Context.CancellationToken;
        var request = await MessageFraming.ReadMessageAsync(reader, parser, options.MaxReceiveMessageSize,
                encoding.Length == 0 ? null : encoding, token).ConfigureAwait(false)
            ?? throw new RpcException(StatusCode.Internal, "the request body held no message");
        await MessageFraming.ExpectEndAsync(reader, token).ConfigureAwait(false);
        if (options.MessageFormatter is { } formatter && logger.IsEnabled(LogLevel.Debug))
        {
            Log.Request(logger, Context.Method, formatter.Format(request));
        }
        return request;
    }

    public void LogResponse(IMessage response)
    {
        if (options.MessageFormatter is { } formatter && logger.IsEnabled(LogLevel.Debug))
        {
            Log.Response(logger, Context.Method, formatter.Format(response));
        }
    }

    public async Task WriteMessageAsync(IMessage message)
    {
        await _writeLock.WaitAsync(Context.CancellationToken).ConfigureAwait(false);
        try
        {
            if (_ended)
            {
                throw new InvalidOperationException("the call has already ended");
            }
            Context.CancellationToken.ThrowIfCancellationRequested();
            StartResponse();
            MessageFraming.Write(http.Response.BodyWriter, message);
            // Not cancellable: cancelling a flush makes Kestrel reset the stream as INTERNAL_ERROR. A flush held by
            // flow control when the call ends is released by EndAsync resetting the stream instead.
            await http.Response.BodyWriter.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Ends the call with a status: in trailers when the response has begun, else as a trailers-only response.
    /// Waits for a write in progress; later writes fail.
    /// </summary>
    public async Task EndAsync(Status status)
    {
        if (!await _writeLock.WaitAsync(0).ConfigureAwait(false))
        {
            // A write is stuck behind flow control (the client reads no more): no status can follow it, so the
            // stream is reset (CANCEL), which also releases the write.
            http.Features.Get<IHttpResetFeature>()?.Reset(CancelErrorCode);
            await _writeLock.WaitAsync().ConfigureAwait(false);
            _ended = true;
            _writeLock.Release();
            return;
        }
        try
        {
            _ended = true;
            var response = http.Response;
            if (!response.HasStarted)
            {
                StartResponse();
                response.Headers[GrpcHeaders.Status] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (status.Detail.Length > 0)
                {
                    response.Headers[GrpcHeaders.Message] = PercentEncoding.Encode(status.Detail);
                }
                return;
            }
            response.AppendTrailer(GrpcHeaders.Status,
                ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (status.Detail.Length > 0)
            {
                response.AppendTrailer(GrpcHeaders.Message, PercentEncoding.Encode(status.Detail));
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Marks the call ended without writing anything (the client is gone).</summary>
    public async Task AbandonAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        _ended = true;
        _writeLock.Release();
    }

    private void StartResponse()
    {
        var response = http.Response;
        if (!response.HasStarted && response.ContentType is null)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = GrpcHeaders.ContentType;
        }
    }
}
