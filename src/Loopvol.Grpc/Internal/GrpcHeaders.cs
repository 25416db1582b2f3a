namespace Loopvol.Grpc.Internal;

/// <summary>Header names and values of the gRPC over HTTP/2 protocol.</summary>
internal static class GrpcHeaders
{
    public const string ContentType = "application/grpc";
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string Timeout = "grpc-timeout";
    public const string Encoding = "grpc-encoding";
    public const string AcceptEncoding = "grpc-accept-encoding";
    public const string SupportedEncodings = "identity,gzip";

    public static bool IsSupportedEncoding(string encoding) => encoding is "" or "identity" or "gzip";

    /// <summary>
    /// <c>application/grpc</c>, optionally <c>+proto</c>, optionally with parameters; not grpc-web, not other codecs.
    /// </summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var rest = contentType.AsSpan(ContentType.Length);
        if (rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["+proto".Length..];
        }
        return rest.IsEmpty || rest[0] == ';';
    }
}
