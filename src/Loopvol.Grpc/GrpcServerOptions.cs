namespace Loopvol.Grpc;

/// <summary>Settings of the server side of the transport.</summary>
public sealed class GrpcServerOptions
{
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    /// <summary>A request message larger than this is answered RESOURCE_EXHAUSTED without being read.</summary>
    public int MaxReceiveMessageSize
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be 0 or more");
    } = DefaultMaxReceiveMessageSize;

    /// <summary>How long in-flight calls may run on after a stop was asked for.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most concurrent calls on one HTTP/2 connection.</summary>
    public int MaxStreamsPerConnection { get; init; } = 1024;

    /// <summary>Methods (full paths) whose calls are logged at Trace instead of Information, e.g. probes.</summary>
    public IReadOnlySet<string> QuietMethods { get; init; } = new HashSet<string>();

    /// <summary>Maps domain exceptions to statuses; unmapped ones are INTERNAL.</summary>
    public IExceptionMapper? ExceptionMapper { get; init; }

    /// <summary>Renders messages for Debug logs; null logs no message bodies.</summary>
    public IMessageFormatter? MessageFormatter { get; init; }
}
