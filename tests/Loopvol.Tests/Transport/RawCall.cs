using System.Net;
using System.Net.Http.Headers;
using Loopvol.Csi.Transport;

namespace Loopvol.Tests.Transport;

/// <summary>A hand-made HTTP/2 request on the driver's socket, for what a well-behaved gRPC client never sends.</summary>
public sealed record RawCall(HttpStatusCode HttpStatus, string? GrpcStatus, string? GrpcMessage, HttpResponseHeaders Headers)
{
    public static async Task<RawCall> SendAsync(GrpcEndpoint endpoint, string path, byte[] body,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var handler = CsiChannel.Handler(endpoint);
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(request);
        _ = await response.Content.ReadAsByteArrayAsync();
        var source = response.Headers.Contains("grpc-status") ? response.Headers : response.TrailingHeaders;
        return new RawCall(response.StatusCode,
            source.TryGetValues("grpc-status", out var s) ? s.First() : null,
            source.TryGetValues("grpc-message", out var m) ? Uri.UnescapeDataString(m.First()) : null,
            response.Headers);
    }

    /// <summary>One gRPC message frame: the compressed flag and a big-endian length, then the payload.</summary>
    public static byte[] Frame(byte flag, byte[] payload) =>
        [flag, (byte)(payload.Length >> 24), (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
}
