using Loopvol.Csi.Transport;

namespace Loopvol.Bench.Csi;

/// <summary>
/// An endpoint to run the workloads on, with what else the run measures of it: the driver's metrics URL (for fsyncs
/// per call) and a directory on its pool's file system (for the fsync latency there, --fsync-probe).
/// </summary>
internal sealed record BenchEndpoint(GrpcEndpoint Endpoint, Uri? Metrics = null, string? FsyncProbe = null)
{
    public static implicit operator BenchEndpoint(GrpcEndpoint endpoint) => new(endpoint);
}
