using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Loopvol.Core.Diagnostics;
using Loopvol.Csi.Logging;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport.Interceptors;

/// <summary>
/// The outermost interceptor: logs every call's method, status and time, and at Debug its request and response with
/// every secret field withheld. Probes, called every few seconds, are logged at Trace. Every call, probes included,
/// is also counted in <see cref="DriverMeters"/> (calls in flight, and the duration by method and status code).
/// </summary>
public sealed class CallLoggingInterceptor(ILoggerFactory loggers, CsiServerOptions options) : Interceptor
{
    private readonly ILogger _logger = loggers.CreateLogger(TransportLog.Category);

    private static readonly SecretRedactingFormatter Formatter = new();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request,
        ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var method = context.Method;
        var quiet = options.QuietMethods.Contains(method);
        DriverMeters.CallStarted();
        if (!quiet && _logger.IsEnabled(LogLevel.Debug) && request is IMessage message)
        {
            TransportLog.Request(_logger, method, Formatter.Format(message));
        }
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            Finished(method, quiet, StatusCode.OK, "", started);
            if (!quiet && _logger.IsEnabled(LogLevel.Debug) && response is IMessage reply)
            {
                TransportLog.Response(_logger, method, Formatter.Format(reply));
            }
            return response;
        }
        catch (RpcException e)
        {
            Finished(method, quiet, e.StatusCode, e.Status.Detail, started);
            throw;
        }
        catch (Exception e)
        {
            // Grpc.AspNetCore answers UNKNOWN for what escapes the error mapping (nothing should).
            Finished(method, quiet, StatusCode.Unknown, e.Message, started);
            throw;
        }
    }

    /// <summary>A streaming call is logged as a unary one, with the number of messages it sent instead of a response.</summary>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var method = context.Method;
        DriverMeters.CallStarted();
        if (_logger.IsEnabled(LogLevel.Debug) && request is IMessage message)
        {
            TransportLog.Request(_logger, method, Formatter.Format(message));
        }
        var counted = new CountingWriter<TResponse>(responseStream);
        try
        {
            await continuation(request, counted, context).ConfigureAwait(false);
            Finished(method, quiet: false, StatusCode.OK, $"{counted.Count} message(s) sent", started);
        }
        catch (RpcException e)
        {
            Finished(method, quiet: false, e.StatusCode, $"{e.Status.Detail} (after {counted.Count} message(s))", started);
            throw;
        }
        catch (Exception e)
        {
            Finished(method, quiet: false, StatusCode.Unknown, e.Message, started);
            throw;
        }
    }

    /// <summary>A status code as the CSI sidecars' metrics spell it (Go's names: <c>Canceled</c>, not <c>Cancelled</c>).</summary>
    internal static string CodeName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();

    private void Finished(string method, bool quiet, StatusCode code, string detail, long started)
    {
        var took = Stopwatch.GetElapsedTime(started);
        DriverMeters.CallFinished(method, CodeName(code), took.TotalSeconds);
        var elapsed = took.TotalMilliseconds;
        var text = detail.Length == 0 ? "" : ": " + detail;
        if (quiet)
        {
            TransportLog.QuietCallFinished(_logger, method, code, elapsed, text);
        }
        else
        {
            TransportLog.CallFinished(_logger, method, code, elapsed, text);
        }
    }

    /// <summary>Passes messages on and counts them.</summary>
    private sealed class CountingWriter<T>(IServerStreamWriter<T> inner) : IServerStreamWriter<T>
    {
        public int Count { get; private set; }

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public async Task WriteAsync(T message)
        {
            await inner.WriteAsync(message).ConfigureAwait(false);
            Count++;
        }
    }
}
