using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Loopvol.Grpc.Internal;

/// <summary>
/// One call in flight: its request body, its response, and whether the response is still ours to write.
/// Once the call has ended (finished, deadline, cancellation) further writes fail without touching the
/// connection, so a handler that outlives its call can never write into another request's response.
/// </summary>
internal sealed class ServerCall(HttpContext http, CallContext context, GrpcServerOptions options, ILogger logger)
{
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
            await http.Response.BodyWriter.FlushAsync(Context.CancellationToken).ConfigureAwait(false);
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
        await _writeLock.WaitAsync().ConfigureAwait(false);
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
