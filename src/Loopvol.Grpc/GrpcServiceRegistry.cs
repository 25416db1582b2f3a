using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Loopvol.Grpc.Internal;

namespace Loopvol.Grpc;

/// <summary>
/// The routing table, built from protobuf service descriptors: every method of every registered service has a
/// route, and a method with no handler answers UNIMPLEMENTED. Handlers are checked against the descriptors when
/// they are mapped, so a wrong message type fails at start, not on the first call.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, MethodDescriptor> _methods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MethodRoute> _handled = new(StringComparer.Ordinal);

    public GrpcServiceRegistry(IEnumerable<ServiceDescriptor> services)
    {
        foreach (var service in services)
        {
            foreach (var method in service.Methods)
            {
                _methods.Add(PathOf(method), method);
            }
        }
    }

    /// <summary>Every method path the registry knows, handled or not.</summary>
    public IEnumerable<string> MethodPaths => _methods.Keys;

    public static string PathOf(MethodDescriptor method) => $"/{method.Service.FullName}/{method.Name}";

    public GrpcServiceRegistry MapUnary<TRequest, TResponse>(MethodDescriptor method,
        Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(handler);
        Check<TRequest, TResponse>(method, serverStreaming: false);
        _handled.Add(PathOf(method), new UnaryRoute<TRequest, TResponse>(PathOf(method), handler));
        return this;
    }

    public GrpcServiceRegistry MapServerStreaming<TRequest, TResponse>(MethodDescriptor method,
        Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(handler);
        Check<TRequest, TResponse>(method, serverStreaming: true);
        _handled.Add(PathOf(method), new ServerStreamingRoute<TRequest, TResponse>(PathOf(method), handler));
        return this;
    }

    internal RouteTable Build() =>
        new(_handled.ToFrozenDictionary(StringComparer.Ordinal), _methods.Keys.ToFrozenSet(StringComparer.Ordinal));

    private void Check<TRequest, TResponse>(MethodDescriptor method, bool serverStreaming)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        var path = PathOf(method);
        if (!_methods.ContainsKey(path))
        {
            throw new ArgumentException($"{path} belongs to no registered service", nameof(method));
        }
        if (method.IsClientStreaming || method.IsServerStreaming != serverStreaming)
        {
            throw new ArgumentException($"{path} is not a {(serverStreaming ? "server-streaming" : "unary")} method",
                nameof(method));
        }
        if (new TRequest().Descriptor != method.InputType)
        {
            throw new ArgumentException($"{path} takes {method.InputType.FullName}, not {typeof(TRequest).Name}",
                nameof(method));
        }
        if (typeof(TResponse) != method.OutputType.ClrType)
        {
            throw new ArgumentException($"{path} returns {method.OutputType.FullName}, not {typeof(TResponse).Name}",
                nameof(method));
        }
    }
}
