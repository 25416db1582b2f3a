using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport;

/// <summary>
/// The last stop of a request no service took: a gRPC call gets UNIMPLEMENTED naming the method it asked for (a
/// trailers-only answer), anything else the HTTP error that fits.
/// </summary>
internal static class UnknownMethods
{
    public static Task AnswerAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }
        if (request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return Task.CompletedTask;
        }
        TransportLog.UnknownMethod(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(TransportLog.Category),
            request.Path.Value ?? "");
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/grpc";
        http.Response.Headers["grpc-status"] = "12"; // UNIMPLEMENTED
        http.Response.Headers["grpc-message"] = Uri.EscapeDataString($"unknown method {request.Path}");
        return Task.CompletedTask;
    }
}
