namespace Loopvol.Cluster.Discovery;

/// <summary>What <see cref="KubernetesAgents"/> watches, and how it reaches the Kubernetes API.</summary>
public sealed record KubernetesAgentsOptions
{
    /// <summary>
    /// The label selector of the node DaemonSet's pods (<c>--agents-selector</c>), e.g.
    /// <c>app.kubernetes.io/name=loopvol,app.kubernetes.io/component=node</c>. Required.
    /// </summary>
    public required string LabelSelector { get; init; }

    /// <summary>
    /// The namespace of those pods (<c>--agents-namespace</c>). Null: the pod's own namespace (the service account's
    /// <c>namespace</c> file) in a cluster, or the namespace of the kubeconfig's current context.
    /// </summary>
    public string? Namespace { get; init; }

    /// <summary>A kubeconfig file (<c>--kubeconfig</c>), for running outside a cluster. Null: the in-cluster configuration
    /// (the service account's token and CA, and <c>KUBERNETES_SERVICE_HOST</c>/<c>_PORT</c>).</summary>
    public string? KubeconfigPath { get; init; }

    /// <summary>The name of the agent container's port that the agent endpoint listens on.</summary>
    public string PortName { get; init; } = "agent";

    /// <summary>The first wait after a failed list or watch; each failure in a row doubles it, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two tries while the API cannot be reached.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the API server keeps one watch open (its <c>timeoutSeconds</c>) before the watch is opened again from
    /// where it ended. A watch still open a minute after that is taken as a dead connection.
    /// </summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The time source of the backoff waits and of the outage's length (tests hurry it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
