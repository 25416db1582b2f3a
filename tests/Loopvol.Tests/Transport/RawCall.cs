using System.Net;
using System.Net.Http.Headers;

namespace Loopvol.Tests.Transport;

/// <summary>A hand-made HTTP/2 request, for what a well-behaved client would never send.</summary>
public sealed record RawCall(HttpStatusCode HttpStatus, string? GrpcStatus, string? GrpcMessage, int BodyLength,
    bool StatusInHeaders, HttpResponseHeaders Headers)
{
    public static async Task<RawCall> SendAsync(HttpClient http, string path, byte[] body,
        string contentType = "application/grpc", string method = "POST",
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (method == "POST")
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(request);
        var content = await response.Content.ReadAsByteArrayAsync();
        var inHeaders = response.Headers.Contains("grpc-status");
        var source = inHeaders ? response.Headers : response.TrailingHeaders;
        return new RawCall(response.StatusCode,
            source.TryGetValues("grpc-status", out var s) ? s.First() : null,
            source.TryGetValues("grpc-message", out var m) ? m.First() : null,
            content.Length, inHeaders, response.Headers);
    }

    /// <summary>A frame header: the compressed flag and a big-endian length.</summary>
    public static byte[] Frame(byte flag, uint length, byte[] payload) =>
        [flag, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, .. payload];
}
