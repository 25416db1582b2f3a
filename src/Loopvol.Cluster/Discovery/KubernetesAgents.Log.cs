using Microsoft.Extensions.Logging;

namespace Loopvol.Cluster.Discovery;

/// <summary>Kubernetes discovery's log lines: event ids 6010 to 6019 (the agents file has 6000 to 6009).</summary>
public sealed partial class KubernetesAgents
{
    [LoggerMessage(6010, LogLevel.Information, "finding node agents through the Kubernetes API at {Host}: pods labelled {Selector} in namespace {Namespace}")]
    private static partial void Watching(ILogger logger, string selector, string @namespace, string host);

    [LoggerMessage(6011, LogLevel.Information, "Kubernetes lists {Count} node agent(s): {Agents}")]
    private static partial void AgentsChanged(ILogger logger, int count, string agents);

    [LoggerMessage(6012, LogLevel.Warning, "the Kubernetes API cannot be reached for the pod {Step} in namespace {Namespace} ({Reason}); keeping the {Count} agent(s) known, trying again with a backoff of up to {MaxBackoff}")]
    private static partial void Unreachable(ILogger logger, string step, string @namespace, string reason, int count, TimeSpan maxBackoff);

    [LoggerMessage(6013, LogLevel.Trace, "the pod {Step} failed again ({Reason}); next try in {Backoff}")]
    private static partial void StillUnreachable(ILogger logger, string step, string reason, TimeSpan backoff);

    [LoggerMessage(6014, LogLevel.Information, "the Kubernetes API answers again after {Seconds:F0}s; {Count} agent(s) were kept meanwhile")]
    private static partial void Reachable(ILogger logger, double seconds, int count);

    [LoggerMessage(6015, LogLevel.Information, "resource version {Version} is no longer kept by the API server ({Reason}); listing the pods again")]
    private static partial void Relisting(ILogger logger, string? version, string reason);

    [LoggerMessage(6016, LogLevel.Debug, "the pod watch ended at resource version {Version}; watching again")]
    private static partial void WatchEnded(ILogger logger, string? version);

    [LoggerMessage(6017, LogLevel.Warning, "pod {Pod} is running but gives no node agent: {Problem}")]
    private static partial void PodUnusable(ILogger logger, string pod, string problem);
}
