using Loopvol.Csi.Transport.Tls;

namespace Loopvol.Csi.Transport;

/// <summary>Settings of the CSI server.</summary>
public sealed class CsiServerOptions
{
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>A request message larger than this is answered RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be 0 or more");
    } = DefaultMaxReceiveMessageSize;

    /// <summary>How long in-flight calls may run on after a stop was asked for.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most concurrent calls on one HTTP/2 connection.</summary>
    public int MaxStreamsPerConnection { get; init; } = 1024;

    /// <summary>Serve gRPC server reflection, so operators can use grpcurl on the socket.</summary>
    public bool EnableReflection { get; init; }

    /// <summary>
    /// Mutual TLS for a TCP endpoint (the agent endpoint): the server presents <see cref="TlsMaterial.Certificate"/>
    /// and serves only clients whose certificate chains to one of <see cref="TlsMaterial.TrustAnchors"/>. Null (the
    /// default) serves HTTP/2 cleartext, as the CSI socket does. A Unix socket endpoint takes none: building such a
    /// server throws. The caller keeps ownership and disposes it after the server.
    /// </summary>
    public TlsMaterial? Tls { get; init; }

    /// <summary>Methods (full paths) whose calls are logged at Trace instead of Information, e.g. probes.</summary>
    public IReadOnlySet<string> QuietMethods { get; init; } =
        new HashSet<string>(StringComparer.Ordinal) { "/csi.v1.Identity/Probe" };
}
