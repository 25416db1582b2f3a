using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport;

/// <summary>Log messages of the CSI server: calls and the socket's life; event ids 1000-1099.</summary>
internal static partial class TransportLog
{
    /// <summary>The category of every transport log line.</summary>
    public const string Category = "Loopvol.Transport";

    [LoggerMessage(1000, LogLevel.Information, "{Method} answered {Code} in {ElapsedMs:F1} ms{Detail}")]
    public static partial void CallFinished(ILogger logger, string method, StatusCode code, double elapsedMs,
        string detail);

    [LoggerMessage(1001, LogLevel.Trace, "{Method} answered {Code} in {ElapsedMs:F1} ms{Detail}")]
    public static partial void QuietCallFinished(ILogger logger, string method, StatusCode code, double elapsedMs,
        string detail);

    [LoggerMessage(1002, LogLevel.Error, "{Method} failed with an unexpected exception")]
    public static partial void UnexpectedError(ILogger logger, string method, Exception exception);

    [LoggerMessage(1003, LogLevel.Debug, "{Method} request: {Body}")]
    public static partial void Request(ILogger logger, string method, string body);

    [LoggerMessage(1004, LogLevel.Debug, "{Method} response: {Body}")]
    public static partial void Response(ILogger logger, string method, string body);

    [LoggerMessage(1005, LogLevel.Warning, "{Method} kept running after its call ended and then failed")]
    public static partial void AbandonedHandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(1006, LogLevel.Information, "{Method} answered Unimplemented: unknown method")]
    public static partial void UnknownMethod(ILogger logger, string method);

    [LoggerMessage(1010, LogLevel.Information, "serving gRPC on {Endpoint}{Security}{Reflection}")]
    public static partial void Listening(ILogger logger, string endpoint, string security, string reflection);

    [LoggerMessage(1011, LogLevel.Information, "removed stale socket file {Path}")]
    public static partial void RemovedStaleSocket(ILogger logger, string path);

    [LoggerMessage(1012, LogLevel.Information, "stopping: no new calls; in-flight calls have {TimeoutSeconds} s")]
    public static partial void Stopping(ILogger logger, double timeoutSeconds);

    [LoggerMessage(1013, LogLevel.Information, "stopped; socket file {Path} removed")]
    public static partial void Stopped(ILogger logger, string path);

    [LoggerMessage(1020, LogLevel.Warning, "refused a TLS client: {Reason}")]
    public static partial void ClientRefused(ILogger logger, string reason);

    [LoggerMessage(1021, LogLevel.Warning, "refused the TLS server {Host}: {Reason}")]
    public static partial void ServerRefused(ILogger logger, string host, string reason);
}
