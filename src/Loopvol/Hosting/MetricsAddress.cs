using System.Globalization;
using System.Net;

namespace Loopvol.Hosting;

/// <summary>
/// Where the metrics listener binds, as <c>--metrics-address</c> takes it (the form of the CSI sidecars'
/// <c>--http-endpoint</c>): <c>:9808</c> (every interface), <c>127.0.0.1:9808</c>, <c>[::1]:9808</c> or
/// <c>localhost:9808</c>. Port 0 asks for any free port. Host names other than localhost are refused: a listener binds
/// to an address, not to a name.
/// </summary>
public sealed record MetricsAddress
{
    private MetricsAddress(IPAddress? address, bool localhost, int port)
    {
        Address = address;
        IsLocalhost = localhost;
        Port = port;
    }

    /// <summary>The IP address to bind; null for every interface, or for localhost.</summary>
    public IPAddress? Address { get; }

    /// <summary>Bind to the loopback addresses (IPv4 and IPv6) only.</summary>
    public bool IsLocalhost { get; }

    public int Port { get; init; }

    public static bool TryParse(string value, out MetricsAddress? address)
    {
        ArgumentNullException.ThrowIfNull(value);
        address = null;
        var colon = value.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture,
                out var port) || port > 65535)
        {
            return false;
        }
        var host = value[..colon];
        if (host.Length == 0)
        {
            address = new MetricsAddress(null, false, port);
        }
        else if (host == "localhost")
        {
            address = new MetricsAddress(null, true, port);
        }
        else if (host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out var v6) &&
                 v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            address = new MetricsAddress(v6, false, port);
        }
        else if (IPAddress.TryParse(host, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork &&
                 v4.ToString() == host) // Dotted quads only: IPAddress also reads "1" as 0.0.0.1.
        {
            address = new MetricsAddress(v4, false, port);
        }
        return address is not null;
    }

    public static MetricsAddress Parse(string value) => TryParse(value, out var address)
        ? address!
        : throw new FormatException($"'{value}' is not [host]:port (e.g. :9808 or 127.0.0.1:9808)");

    public override string ToString()
    {
        var host = IsLocalhost ? "localhost" : Address switch
        {
            null => "",
            { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 => $"[{v6}]",
            var v4 => v4.ToString(),
        };
        return $"{host}:{Port.ToString(CultureInfo.InvariantCulture)}";
    }
}
