using k8s;
using k8s.Exceptions;
using k8s.Models;
using Loopvol.Cluster.Discovery.Internal;
using Microsoft.Extensions.Logging;

namespace Loopvol.Cluster.Discovery;

/// <summary>
/// The node agents as Kubernetes knows them (docs/cluster.md, "Discovery"): the pods of the node DaemonSet, chosen by
/// label in one namespace, listed and then watched (see <see cref="AgentPods"/> for which pods count). Membership is
/// Kubernetes' own. The list is replaced only by what the API says: while the API cannot be reached the agents known
/// last stay (logged once per outage), and the watch is tried again with a backoff.
/// </summary>
public sealed partial class KubernetesAgents : IAgentDirectory, IAsyncDisposable, IDisposable
{
    private readonly PodsApi _api;
    private readonly KubernetesAgentsOptions _options;
    private readonly ILogger _logger;
    private readonly Dictionary<string, V1Pod> _pods = new(StringComparer.Ordinal); // By UID; the watch loop's alone.
    private readonly HashSet<PodMisfit> _reported = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile IReadOnlyList<AgentAddress> _agents = [];
    private volatile string? _version;
    private Task _loop = Task.CompletedTask;

    private KubernetesAgents(PodsApi api, string ns, KubernetesAgentsOptions options, ILogger logger)
    {
        _api = api;
        Namespace = ns;
        _options = options;
        _logger = logger;
    }

    /// <summary>The namespace watched.</summary>
    public string Namespace { get; }

    /// <summary>The agents now, by node ID; empty until the first list (see <see cref="Listed"/>).</summary>
    public IReadOnlyList<AgentAddress> Agents => _agents;

    /// <summary>
    /// Completes when the pods have been listed once; pending while the API cannot be reached, cancelled if this is
    /// disposed first.
    /// </summary>
    public Task Listed => _listed.Task;

    /// <summary>The resource version the agents reflect (the list's, then each watch event's).</summary>
    internal string? ResourceVersion => _version;

    /// <summary>
    /// Starts watching, in the background. A missing label selector, a namespace that cannot be told or is no DNS
    /// label, no in-cluster configuration (when no kubeconfig is given) or a kubeconfig that cannot be read is a
    /// <see cref="FormatException"/> naming what is wrong, as <see cref="AgentsFile.Load"/> has it; the API being down
    /// is not an error here (the agents stay empty until it answers).
    /// </summary>
    public static KubernetesAgents Start(KubernetesAgentsOptions options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        if (string.IsNullOrWhiteSpace(options.LabelSelector))
        {
            throw new FormatException("the label selector of the node agents' pods is required (--agents-selector)");
        }
        var config = Configure(options);
        var ns = (options.Namespace ?? config.Namespace)?.Trim();
        if (string.IsNullOrEmpty(ns))
        {
            throw new FormatException("the namespace of the node agents' pods cannot be told: give it (--agents-namespace)");
        }
        if (!IsDnsLabel(ns))
        {
            throw new FormatException($"namespace '{ns}' is no DNS label (1 to 63 lowercase letters, digits or '-')");
        }
        var agents = new KubernetesAgents(Connect(config), ns, options, loggers.CreateLogger<KubernetesAgents>());
        Watching(agents._logger, options.LabelSelector, ns, config.Host);
        agents._loop = Task.Run(() => agents.RunAsync(agents._stop.Token));
        return agents;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listed.TrySetCanceled();
        _api.Dispose();
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static KubernetesClientConfiguration Configure(KubernetesAgentsOptions options)
    {
        try
        {
            if (options.KubeconfigPath is { } path)
            {
                return File.Exists(path)
                    ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
                    : throw new FormatException($"kubeconfig {path} does not exist");
            }
            return KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : throw new FormatException("not in a Kubernetes pod (no KUBERNETES_SERVICE_HOST, or no service account " +
                                            "token and CA): give a kubeconfig to find the node agents from outside");
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or
                                      InvalidOperationException or ArgumentException or YamlDotNet.Core.YamlException)
        {
            throw new FormatException($"the Kubernetes API configuration cannot be used: {e.Message}", e);
        }
    }

    private static PodsApi Connect(KubernetesClientConfiguration config)
    {
        try
        {
            return new PodsApi(config);
        }
        catch (KubeConfigException e)
        {
            throw new FormatException($"the Kubernetes API configuration cannot be used: {e.Message}", e);
        }
    }

    private static bool IsDnsLabel(string name) =>
        name.Length is >= 1 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') &&
        name[0] != '-' && name[^1] != '-';

    /// <summary>Takes a full list: the pods are now exactly these.</summary>
    private void Replace(V1PodList list)
    {
        _pods.Clear();
        foreach (var pod in list.Items ?? [])
        {
            _pods[KeyOf(pod)] = pod;
        }
        Publish(list.Metadata?.ResourceVersion);
        _listed.TrySetResult();
    }

    /// <summary>Takes one watch event.</summary>
    private void Apply(PodEvent change)
    {
        switch (change.Type)
        {
            case "ADDED" or "MODIFIED":
                _pods[KeyOf(change.Pod)] = change.Pod;
                break;
            case "DELETED":
                _pods.Remove(KeyOf(change.Pod));
                break;
            case "BOOKMARK":
                break; // Only a newer resource version.
            default:
                throw new FormatException($"a watch event of unknown type '{change.Type}'");
        }
        Publish(change.Pod.Metadata?.ResourceVersion);
    }

    private void Publish(string? version)
    {
        var (agents, misfits) = AgentPods.Select(_pods.Values, _options.PortName);
        foreach (var misfit in misfits.Where(_reported.Add))
        {
            PodUnusable(_logger, misfit.Pod, misfit.Problem);
        }
        if (!agents.SequenceEqual(_agents))
        {
            _agents = agents;
            AgentsChanged(_logger, agents.Count, string.Join(", ", agents.Select(a => $"{a.NodeId}={a.Url.Authority}")));
        }
        _version = version ?? _version;
    }

    private static string KeyOf(V1Pod pod) =>
        pod.Metadata?.Uid is { Length: > 0 } uid ? uid : $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";
}
