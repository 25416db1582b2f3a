using System.Globalization;

namespace Loopvol.Csi.Transport;

/// <summary>Where the server listens: <c>unix:///path/csi.sock</c> (the CSI convention) or <c>tcp://host:port</c>.</summary>
public sealed record GrpcEndpoint
{
    private GrpcEndpoint(string? socketPath, string? host, int port)
    {
        SocketPath = socketPath;
        Host = host;
        Port = port;
    }

    /// <summary>The Unix socket's absolute path; null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary>The TCP host; null for a Unix socket.</summary>
    public string? Host { get; }

    /// <summary>The TCP port (0 asks for any free port).</summary>
    public int Port { get; }

    public bool IsUnix => SocketPath is not null;

    public static GrpcEndpoint Unix(string path) =>
        Path.IsPathFullyQualified(path)
            ? new GrpcEndpoint(Path.GetFullPath(path), null, 0)
            : throw new FormatException($"the socket path '{path}' must be absolute");

    public static GrpcEndpoint Tcp(string host, int port) =>
        port is >= 0 and <= 65535 && host.Length > 0
            ? new GrpcEndpoint(null, host, port)
            : throw new FormatException($"'{host}:{port}' is not a valid TCP host and port");

    /// <summary>Parses <c>unix:///abs/path</c>, <c>unix:/abs/path</c>, a bare absolute path, or <c>tcp://host:port</c>.</summary>
    public static GrpcEndpoint Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.StartsWith("unix://", StringComparison.Ordinal))
        {
            return Unix(value["unix://".Length..]);
        }
        if (value.StartsWith("unix:", StringComparison.Ordinal))
        {
            return Unix(value["unix:".Length..]);
        }
        if (value.StartsWith('/'))
        {
            return Unix(value);
        }
        if (value.StartsWith("tcp://", StringComparison.Ordinal))
        {
            var rest = value["tcp://".Length..].TrimEnd('/');
            var colon = rest.LastIndexOf(':');
            if (colon > 0 && int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture,
                    out var port))
            {
                return Tcp(rest[..colon].Trim('[', ']'), port);
            }
        }
        throw new FormatException(
            $"endpoint '{value}' is neither unix:///absolute/path nor tcp://host:port");
    }

    public override string ToString() => IsUnix ? $"unix://{SocketPath}" : $"tcp://{Host}:{Port}";
}
