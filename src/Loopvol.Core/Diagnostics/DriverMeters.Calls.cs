using System.Diagnostics.Metrics;

namespace Loopvol.Core.Diagnostics;

/// <summary>CSI calls: how long each took, by method and status code, and how many are being answered.</summary>
public static partial class DriverMeters
{
    private static readonly Histogram<double> Calls = SecondsHistogram("loopvol.csi.call.duration",
        "Time the driver took to answer a CSI call, by full gRPC method and status code (its _count is the calls)");

    private static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>("loopvol.csi.calls_in_flight",
        unit: null, "CSI calls being answered now");

    /// <summary>A call began: counted in flight until <see cref="CallFinished"/>.</summary>
    public static void CallStarted() => InFlight.Add(1);

    /// <summary>
    /// A call ended after <paramref name="seconds"/> with <paramref name="code"/>, spelt as the CSI sidecars spell
    /// gRPC codes (<c>OK</c>, <c>NotFound</c>, <c>Canceled</c>). <paramref name="method"/> is the full gRPC method,
    /// one of a fixed set.
    /// </summary>
    public static void CallFinished(string method, string code, double seconds)
    {
        InFlight.Add(-1);
        Calls.Record(seconds, new KeyValuePair<string, object?>("method", method),
            new KeyValuePair<string, object?>("grpc_status_code", code));
    }
}
