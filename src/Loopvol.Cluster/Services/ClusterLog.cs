using Microsoft.Extensions.Logging;

namespace Loopvol.Cluster.Services;

/// <summary>What the controller's routing services report; event ids 6030-6039.</summary>
public static partial class ClusterLog
{
    [LoggerMessage(6030, LogLevel.Warning,
        "discarded {Count} group snapshot(s) across nodes that never became complete (a create cut short and not retried)")]
    public static partial void IncompleteGroupsDiscarded(ILogger logger, int count);

    [LoggerMessage(6031, LogLevel.Error, "the sweep for incomplete group snapshots across nodes failed (tried again later): {Reason}")]
    public static partial void SweepFailed(ILogger logger, string reason);
}
