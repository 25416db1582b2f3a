using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Loopvol.Grpc.Internal;

namespace Loopvol.Grpc.Client;

/// <summary>
/// A small gRPC client over HttpClient and HTTP/2 cleartext, on a Unix socket or TCP. Enough for tests and the
/// benchmark tool: unary and server-streaming calls, deadlines, cancellation, statuses as <see cref="RpcException"/>.
/// </summary>
public sealed class GrpcClient : IDisposable
{
    private readonly HttpClient _http;

    public GrpcClient(GrpcEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        if (endpoint.SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        var authority = endpoint.IsUnix ? "localhost" : $"{endpoint.Host}:{endpoint.Port}";
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri($"http://{authority}"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>A response message larger than this fails the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = 64 * 1024 * 1024;

    /// <summary>The underlying HTTP client, for tests that send hand-made requests.</summary>
    public HttpClient Http => _http;

    public static string PathOf(MethodDescriptor method) => GrpcServiceRegistry.PathOf(method);

    public async Task<TResponse> UnaryAsync<TResponse>(MethodDescriptor method, IMessage request,
        CallOptions? options = null)
        where TResponse : class, IMessage<TResponse>, new()
    {
        options ??= new CallOptions();
        using var cts = LocalCancellation(options);
        try
        {
            using var response = await SendAsync(PathOf(method), request, options, cts.Token).ConfigureAwait(false);
            var reader = new ResponseReader<TResponse>(response, MaxReceiveMessageSize);
            var message = await reader.ReadAsync(cts.Token).ConfigureAwait(false);
            if (message is not null && await reader.ReadAsync(cts.Token).ConfigureAwait(false) is not null)
            {
                throw new RpcException(StatusCode.Internal, "the server sent more than one message for a unary call");
            }
            var status = reader.Status();
            if (status.Code != StatusCode.OK)
            {
                throw new RpcException(status);
            }
            return message ?? throw new RpcException(StatusCode.Internal, "the server sent OK but no message");
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw Translate(e, options);
        }
    }

    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TResponse>(MethodDescriptor method,
        IMessage request, CallOptions? options = null, [EnumeratorCancellation] CancellationToken token = default)
        where TResponse : class, IMessage<TResponse>, new()
    {
        options ??= new CallOptions();
        using var cts = LocalCancellation(options, token);
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(PathOf(method), request, options, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            throw Translate(e, options, token);
        }
        using (response)
        {
            var reader = new ResponseReader<TResponse>(response, MaxReceiveMessageSize);
            while (true)
            {
                TResponse? message;
                try
                {
                    message = await reader.ReadAsync(cts.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
                {
                    throw Translate(e, options, token);
                }
                if (message is null)
                {
                    break;
                }
                yield return message;
            }
            var status = reader.Status();
            if (status.Code != StatusCode.OK)
            {
                throw new RpcException(status);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(string path, IMessage request, CallOptions options,
        CancellationToken token)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(MessageFraming.ToArray(request)),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue(GrpcHeaders.ContentType);
        message.Headers.TryAddWithoutValidation("te", "trailers");
        if (options.Timeout is { } timeout)
        {
            message.Headers.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(timeout));
        }
        foreach (var (name, value) in options.Headers ?? new Dictionary<string, string>())
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token)
            .ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var status = response.StatusCode;
            response.Dispose();
            throw new RpcException(HttpCode(status), $"the server answered HTTP {(int)status}");
        }
        return response;
    }

    private static CancellationTokenSource LocalCancellation(CallOptions options, CancellationToken extra = default)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken, extra);
        if (options.Timeout is { } timeout)
        {
            var local = timeout + options.LocalGrace;
            cts.CancelAfter(local < TimeSpan.Zero ? TimeSpan.Zero : local > GrpcTimeout.Max ? GrpcTimeout.Max : local);
        }
        return cts;
    }

    private static RpcException Translate(Exception e, CallOptions options, CancellationToken extra = default) => e switch
    {
        OperationCanceledException when options.CancellationToken.IsCancellationRequested ||
                                         extra.IsCancellationRequested =>
            new RpcException(StatusCode.Cancelled, "the call was cancelled"),
        OperationCanceledException => new RpcException(StatusCode.DeadlineExceeded, "the call's deadline passed"),
        _ when Find<HttpProtocolException>(e) is { } reset => new RpcException(ResetCode(reset.ErrorCode),
            $"the server reset the stream (HTTP/2 error {reset.ErrorCode})"),
        HttpRequestException => new RpcException(StatusCode.Unavailable, $"the server could not be reached: {e.Message}"),
        _ => new RpcException(StatusCode.Unavailable, $"the connection failed during the call: {e.Message}"),
    };

    /// <summary>The gRPC spec's mapping of HTTP/2 RST_STREAM error codes.</summary>
    private static StatusCode ResetCode(long code) => code switch
    {
        7 => StatusCode.Unavailable, // REFUSED_STREAM
        8 => StatusCode.Cancelled, // CANCEL
        11 => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        12 => StatusCode.PermissionDenied, // INADEQUATE_SECURITY
        _ => StatusCode.Internal,
    };

    /// <summary>The gRPC spec's mapping of HTTP statuses other than 200.</summary>
    private static StatusCode HttpCode(HttpStatusCode status) => (int)status switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    private static T? Find<T>(Exception? e)
        where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }
        return null;
    }
}
