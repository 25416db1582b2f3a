using Microsoft.Extensions.Primitives;

namespace Loopvol.Grpc;

/// <summary>What a handler knows about the call it serves.</summary>
public sealed class CallContext
{
    internal CallContext(string method, DateTimeOffset? deadline, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, StringValues> requestHeaders)
    {
        Method = method;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        RequestHeaders = requestHeaders;
    }

    /// <summary>The full method path, e.g. <c>/csi.v1.Identity/Probe</c>.</summary>
    public string Method { get; }

    /// <summary>When the client stops waiting, from its <c>grpc-timeout</c> header; null when it sent none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Cancelled when the deadline passes, the client cancels, or the server shuts down hard.</summary>
    public CancellationToken CancellationToken { get; }

    public IReadOnlyDictionary<string, StringValues> RequestHeaders { get; }

    /// <summary>The same call, with <paramref name="cancellationToken"/> as the token handlers see.</summary>
    public CallContext WithCancellation(CancellationToken cancellationToken) =>
        new(Method, Deadline, cancellationToken, RequestHeaders);
}
