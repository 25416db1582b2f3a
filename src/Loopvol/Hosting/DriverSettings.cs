using Loopvol.Core.Faults;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>Everything the command line decides about one run of the driver.</summary>
public sealed record DriverSettings
{
    public const string DefaultDataDirectory = "/var/lib/loopvol";

    public required GrpcEndpoint Endpoint { get; init; }

    /// <summary>Which role this process plays (docs/cluster.md).</summary>
    public DriverMode Mode { get; init; } = DriverMode.All;

    /// <summary>Node mode: where the agent endpoint serves this node's pool to the controller (TCP, mutual TLS).</summary>
    public GrpcEndpoint? AgentEndpoint { get; init; }

    /// <summary>Node and controller mode: this side's certificate and key, and the CA bundle trusted for the other.</summary>
    public TlsFiles? Tls { get; init; }

    /// <summary>Controller mode: the DNS name every agent's certificate carries; null: the host dialled.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Controller mode: the node of a new volume asked for with no topology; null: spread by name.</summary>
    public string? DefaultNode { get; init; }

    /// <summary>Controller mode: find the agents through the Kubernetes API (the node DaemonSet's pods); null: the file.</summary>
    public Cluster.Discovery.KubernetesAgentsOptions? AgentsFromKubernetes { get; init; }

    /// <summary>Controller mode: the static agents file (<c>NODE-ID URL</c> a line).</summary>
    public string? AgentsFile { get; init; }

    public required string NodeId { get; init; }

    public required string DriverName { get; init; }

    public required string DataDirectory { get; init; }

    /// <summary>The pool of volume and snapshot images; by default <c>&lt;data-dir&gt;/pool</c>.</summary>
    public string PoolDirectory
    {
        get => field ?? Path.Combine(DataDirectory, "pool");
        init;
    }

    public string JournalPath => Path.Combine(DataDirectory, "journal.db");

    /// <summary>Bytes of the pool's file system kept free for everything else.</summary>
    public long PoolReserveBytes { get; init; }

    /// <summary>
    /// Blocks kept allocated in the data directory for the journal and released when its file system fills up, so a
    /// driver on a full pool can still start and serve deletes (see <see cref="SpaceReserve"/>); 0: none.
    /// </summary>
    public long JournalReserveBytes { get; init; } = 8L << 20;

    /// <summary>Provisioned capacity may reach this multiple of the pool's usable size (1.0: no over-commit).</summary>
    public double OvercommitRatio { get; init; } = 1.0;

    /// <summary>Serve ControllerPublish/Unpublish (only useful with an attacher; off in per-node deployments).</summary>
    public bool EnableAttach { get; init; }

    /// <summary>NodeGetInfo's max_volumes_per_node; 0 means no limit is reported.</summary>
    public long MaxVolumesPerNode { get; init; }

    /// <summary>
    /// The longest a group snapshot may keep file systems frozen before they are thawed regardless. In controller
    /// mode, the lease a group across nodes asks of each agent (which caps it by its own).
    /// </summary>
    public TimeSpan MaxFreeze { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Tests only: false takes group snapshots without freezing, to show the consistency tests can fail.</summary>
    public bool FreezeGroups { get; init; } = true;

    /// <summary>Test-only crash points; production runs get none.</summary>
    public IFaultInjector Faults { get; init; } = NoFaults.Instance;

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public bool JsonLogs { get; init; }

    public int MaxMessageSize { get; init; } = CsiServerOptions.DefaultMaxReceiveMessageSize;

    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Serve gRPC server reflection on the endpoint, for grpcurl.</summary>
    public bool EnableReflection { get; init; }

    /// <summary>Where to serve Prometheus metrics over HTTP (<see cref="MetricsServer"/>); null: no metrics listener.</summary>
    public MetricsAddress? MetricsAddress { get; init; }
}

/// <summary>The roles of one executable (docs/cluster.md, "Roles").</summary>
public enum DriverMode
{
    /// <summary>Identity, Controller, GroupController and Node on one socket: one node, everything local.</summary>
    All,

    /// <summary>Identity and Node on the kubelet socket, and the agent endpoint serving this node's pool.</summary>
    Node,

    /// <summary>Identity, Controller and GroupController for the central sidecars, routed to the node agents.</summary>
    Controller,
}
