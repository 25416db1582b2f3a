using System.CommandLine;
using System.CommandLine.Parsing;
using Loopvol.Cluster.Discovery;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Hosting;

namespace Loopvol.Cli;

/// <summary>
/// The flags of the roles on a cluster (docs/cluster.md): <c>--mode</c>, the agent endpoint of a node, the agents of
/// the controller, and the mutual TLS between them. Each is checked against the mode it belongs to.
/// </summary>
internal sealed class ClusterFlags
{
    private static readonly Dictionary<string, DriverMode> Modes = new(StringComparer.Ordinal)
    {
        ["all"] = DriverMode.All,
        ["node"] = DriverMode.Node,
        ["controller"] = DriverMode.Controller,
    };

    private Option<string> Mode { get; } = Flags.OneOf("--mode",
        "all: one process serves everything on one node; node: the kubelet's Node service plus the agent endpoint " +
        "serving this node's pool; controller: the central Controller, routing to the node agents",
        "all", [.. Modes.Keys]);

    private Option<string> AgentEndpoint { get; } = Flags.Text("--agent-endpoint",
        "Node mode: where to serve this node's pool to the controller, over mutual TLS: tcp://HOST:PORT", null,
        v => LoopvolCommand.TryParseEndpoint(v, out var e) && !e!.IsUnix, "is not tcp://HOST:PORT");

    private Option<string> AgentsFile { get; } = Flags.Text("--agents-file",
        "Controller mode: the node agents, one a line: NODE-ID https://HOST:PORT (re-read when it changes)", null,
        Path.IsPathFullyQualified, "must be an absolute path");

    private Option<string> AgentsSelector { get; } = Flags.Text("--agents-selector",
        "Controller mode: find the agents through the Kubernetes API, as the pods of the node DaemonSet with this " +
        "label selector (e.g. app.kubernetes.io/component=node), dialled at their container port named 'agent'",
        null, v => v.Trim().Length > 0, "is empty");

    private Option<string> AgentsNamespace { get; } = Flags.Text("--agents-namespace",
        "Controller mode, with --agents-selector: the agents' namespace [default: this pod's own]", null,
        v => v.Length is > 0 and <= 63 && v.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'),
        "is not a namespace name");

    private Option<string> Kubeconfig { get; } = Flags.Text("--kubeconfig",
        "Controller mode, with --agents-selector: a kubeconfig file, for running outside the cluster " +
        "[default: the pod's service account]", null, Path.IsPathFullyQualified, "must be an absolute path");

    private Option<string> TlsCert { get; } = Flags.Text("--tls-cert",
        "Node and controller mode: this side's certificate (PEM, intermediates after it)", null,
        Path.IsPathFullyQualified, "must be an absolute path");

    private Option<string> TlsKey { get; } = Flags.Text("--tls-key", "Node and controller mode: its private key (PEM)", null,
        Path.IsPathFullyQualified, "must be an absolute path");

    private Option<string> TlsCa { get; } = Flags.Text("--tls-ca",
        "Node and controller mode: the CA bundle (PEM) the other side's certificate must chain to, and only it", null,
        Path.IsPathFullyQualified, "must be an absolute path");

    private Option<string> TlsServerName { get; } = Flags.Text("--tls-server-name",
        "Controller mode: the DNS name every agent's certificate carries, checked instead of the address dialled " +
        "[default: the address dialled]", null, v => Uri.CheckHostName(v) == UriHostNameType.Dns,
        "is not a DNS name");

    private Option<string> DefaultNode { get; } = Flags.Text("--default-node",
        "Controller mode: the node of a new volume asked for with no topology (Kubernetes always gives one) " +
        "[default: spread over the agents by the volume's name]", null, Core.Ids.NodeIds.IsValid, "is not a node ID");

    public static ClusterFlags Create() => new();

    public void AddTo(RootCommand root)
    {
        foreach (var option in new[] { Mode, AgentEndpoint, AgentsFile, AgentsSelector, AgentsNamespace, Kubeconfig, DefaultNode, TlsCert, TlsKey, TlsCa, TlsServerName })
        {
            root.Options.Add(option);
        }
        root.Validators.Add(Check);
    }

    /// <summary>The settings with what these flags say.</summary>
    public DriverSettings Apply(ParseResult result, DriverSettings settings)
    {
        var mode = Modes[result.GetValue(Mode)!];
        return settings with
        {
            Mode = mode,
            AgentEndpoint = result.GetValue(AgentEndpoint) is { } agent ? GrpcEndpoint.Parse(agent) : null,
            AgentsFile = result.GetValue(AgentsFile),
            Tls = result.GetValue(TlsCert) is { } cert
                ? new TlsFiles(cert, result.GetValue(TlsKey)!, result.GetValue(TlsCa)!)
                : null,
            TlsServerName = result.GetValue(TlsServerName),
            DefaultNode = result.GetValue(DefaultNode),
            AgentsFromKubernetes = result.GetValue(AgentsSelector) is { } selector
                ? new KubernetesAgentsOptions
                {
                    LabelSelector = selector,
                    Namespace = result.GetValue(AgentsNamespace),
                    KubeconfigPath = result.GetValue(Kubeconfig),
                }
                : null,
        };
    }

    private void Check(CommandResult result)
    {
        var text = result.GetValue(Mode) ?? "all"; // a default is not yet applied when validators run
        if (!Modes.TryGetValue(text, out var mode))
        {
            return;
        }
        void Only(Option<string> option, DriverMode belongs)
        {
            if (mode != belongs && result.GetResult(option) is { Implicit: false })
            {
                result.AddError($"{option.Name} is for --mode {Name(belongs)} only, not --mode {text}");
            }
        }
        void Needs(Option<string> option)
        {
            if (result.GetResult(option) is null)
            {
                result.AddError($"--mode {text} needs {option.Name}");
            }
        }
        Only(AgentEndpoint, DriverMode.Node);
        Only(AgentsFile, DriverMode.Controller);
        Only(TlsServerName, DriverMode.Controller);
        Only(DefaultNode, DriverMode.Controller);
        Only(AgentsSelector, DriverMode.Controller);
        Only(AgentsNamespace, DriverMode.Controller);
        Only(Kubeconfig, DriverMode.Controller);
        if (result.GetResult(AgentsSelector) is null)
        {
            foreach (var option in new[] { AgentsNamespace, Kubeconfig }.Where(o => result.GetResult(o) is not null))
            {
                result.AddError($"{option.Name} goes with --agents-selector");
            }
        }
        if (result.GetResult(AgentsSelector) is not null && result.GetResult(AgentsFile) is not null)
        {
            result.AddError("--agents-file and --agents-selector are two ways to find the agents: give one");
        }
        if (mode == DriverMode.All)
        {
            foreach (var tls in new[] { TlsCert, TlsKey, TlsCa }.Where(o => result.GetResult(o) is not null))
            {
                result.AddError($"{tls.Name} is for --mode node or controller (mutual TLS between them), not --mode all");
            }
            return;
        }
        if (mode == DriverMode.Node)
        {
            Needs(AgentEndpoint);
        }
        else if (result.GetResult(AgentsFile) is null && result.GetResult(AgentsSelector) is null)
        {
            result.AddError("--mode controller needs --agents-file or --agents-selector");
        }
        Needs(TlsCert);
        Needs(TlsKey);
        Needs(TlsCa);
    }

    private static string Name(DriverMode mode) => Modes.First(m => m.Value == mode).Key;
}
