using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;

namespace Loopvol.Tests.Support;

/// <summary>
/// Grpc.Net.Client over the driver's socket (through <see cref="CsiChannel"/>), with a call by service and method
/// name, so tests can also call what no generated client has: unknown methods and wrong message types.
/// </summary>
public sealed class CsiClient(GrpcEndpoint endpoint) : IDisposable
{
    public GrpcChannel Channel { get; } = CsiChannel.Create(endpoint);

    /// <summary>Calls <c>/csi.v1.{service}/{method}</c> (or <paramref name="service"/> as a full service name, when it has a dot).</summary>
    public async Task<TResponse> UnaryAsync<TResponse>(string service, string method, IMessage request,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TResponse : class, IMessage<TResponse>, new()
    {
        var call = Channel.CreateCallInvoker().AsyncUnaryCall(Method<TResponse>(MethodType.Unary, service, method), null,
            new CallOptions(deadline: timeout is { } t ? DateTime.UtcNow + t : null, cancellationToken: cancellationToken),
            request);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <summary>A server-streaming call, read to its end.</summary>
    public async Task<IReadOnlyList<TResponse>> ServerStreamingAsync<TResponse>(string service, string method,
        IMessage request)
        where TResponse : class, IMessage<TResponse>, new()
    {
        using var call = Channel.CreateCallInvoker().AsyncServerStreamingCall(
            Method<TResponse>(MethodType.ServerStreaming, service, method), null, new CallOptions(), request);
        var received = new List<TResponse>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            received.Add(call.ResponseStream.Current);
        }
        return received;
    }

    public void Dispose() => Channel.Dispose();

    /// <summary>A CSI method's descriptor, e.g. <c>Describe("Identity", "Probe")</c>.</summary>
    public static MethodDescriptor Describe(string service, string method) =>
        CsiReflection.Descriptor.FindTypeByName<ServiceDescriptor>(service)?.FindMethodByName(method)
        ?? throw new ArgumentException($"csi.v1.{service} has no method {method}", nameof(method));

    private static Method<IMessage, TResponse> Method<TResponse>(MethodType type, string service, string method)
        where TResponse : class, IMessage<TResponse>, new()
    {
        var parser = new MessageParser<TResponse>(() => new TResponse());
        return new Method<IMessage, TResponse>(type, service.Contains('.', StringComparison.Ordinal) ? service : $"csi.v1.{service}",
            method, Marshallers.Create<IMessage>(m => m.ToByteArray(), _ => throw new NotSupportedException()),
            Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom));
    }
}
