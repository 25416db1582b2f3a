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
}
