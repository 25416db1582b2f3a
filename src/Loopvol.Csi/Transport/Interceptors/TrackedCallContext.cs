using Grpc.Core;

namespace Loopvol.Csi.Transport.Interceptors;

/// <summary>The call's own context in every respect but its cancellation token, which shutdown cancels too.</summary>
internal sealed class TrackedCallContext : ServerCallContext
{
    /// <summary>Where Grpc.AspNetCore looks for the HTTP context of a context it did not make itself.</summary>
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext _inner;
    private readonly CancellationToken _token;

    public TrackedCallContext(ServerCallContext inner, CancellationToken token)
    {
        _inner = inner;
        _token = token;
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    protected override string MethodCore => _inner.Method;

    protected override string HostCore => _inner.Host;

    protected override string PeerCore => _inner.Peer;

    protected override DateTime DeadlineCore => _inner.Deadline;

    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;

    protected override CancellationToken CancellationTokenCore => _token;

    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;

    protected override Status StatusCore
    {
        get => _inner.Status;
        set => _inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _inner.WriteOptions;
        set => _inner.WriteOptions = value;
    }

    protected override AuthContext AuthContextCore => _inner.AuthContext;

    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        _inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) =>
        _inner.WriteResponseHeadersAsync(responseHeaders);
}
