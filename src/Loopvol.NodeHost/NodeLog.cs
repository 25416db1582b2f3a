using Microsoft.Extensions.Logging;

namespace Loopvol.NodeHost;

/// <summary>What the node reports when the driver reconciles it with the kernel at start-up; event ids 4000-4009.
/// Also what an unstage could not finish after its detach.</summary>
public static partial class NodeLog
{
    [LoggerMessage(4000, LogLevel.Warning, "node start-up reconciliation {Outcome}: {Subject}: {What}")]
    public static partial void Repaired(ILogger logger, string outcome, string subject, string what);

    [LoggerMessage(4001, LogLevel.Information,
        "node reconciled with the kernel: {Staged} volume(s) staged, {Repaired} repaired, {Reported} left for an operator")]
    public static partial void Reconciled(ILogger logger, int staged, int repaired, int reported);

    [LoggerMessage(4002, LogLevel.Warning,
        "volume {Volume} is unstaged, but its released reservation was not given back ({Reason}); the next start gives it back")]
    public static partial void ReleaseDeferred(ILogger logger, string volume, string reason);
}
