using Loopvol.Core.Concurrency;
using Loopvol.Core.Diagnostics;
using Loopvol.Core.Health;
using Loopvol.Core.Host;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Csi.V1;
using Loopvol.Journal.Health;
using Loopvol.NodeHost;
using Loopvol.Pool;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>One running driver: its journal and its gRPC server, built from settings and disposed together.</summary>
public sealed partial class Driver : IAsyncDisposable
{
    private readonly DirectoryLock _dataLock;
    private readonly CallTracker _calls;
    private readonly ILogger _logger;
    private readonly SpaceReserve _reserve;
    private readonly DirectoryLock _poolLock;

    private Driver(DriverSettings settings, DirectoryLock dataLock, DirectoryLock poolLock, SpaceReserve reserve,
        Journal.Journal journal, StoragePool pool, CsiServer server, CallTracker calls, ILogger logger)
    {
        _dataLock = dataLock;
        _poolLock = poolLock;
        _reserve = reserve;
        _calls = calls;
        _logger = logger;
        Settings = settings;
        Journal = journal;
        Pool = pool;
        Server = server;
    }

    public StoragePool Pool { get; }

    public DriverSettings Settings { get; }

    public Journal.Journal Journal { get; }

    public CsiServer Server { get; }

    /// <summary>Node mode: the agent endpoint's server, serving this node's pool to the central controller.</summary>
    public CsiServer? AgentServer { get; private init; }

    private TlsMaterial? Tls { get; init; }

    /// <summary>
    /// What start-up reconciliation found and left for an operator, one entry a finding, by kind (the labels of
    /// <c>loopvol_reconcile_findings</c>).
    /// </summary>
    public IReadOnlyList<string> LeftForOperator { get; private init; } = [];

    /// <summary>This driver's gauges for a metrics listener (<see cref="MetricsServer"/>); dispose them with it.</summary>
    public DriverGauges CreateGauges() => new(Pool, Journal, LeftForOperator);

    /// <summary>
    /// Creates the data directory, locks it and the pool, opens the journal (refusing a missing or empty one over a
    /// pool that holds images, and a damaged one) and builds the server, without serving yet.
    /// </summary>
    public static async Task<Driver> CreateAsync(DriverSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Directory.CreateDirectory(settings.DataDirectory, DataDirectoryMode);
        var dataLock = DirectoryLock.Acquire(settings.DataDirectory,
            holder: DirectoryLock.Describe($"loopvol driver, pool {settings.PoolDirectory}"));
        DirectoryLock? poolLock = null;
        // Before the journal opens: on a full file system, the reserve's blocks are what lets it open.
        var reserve = SpaceReserve.Start(settings.DataDirectory, settings.JournalReserveBytes,
            loggerFactory.CreateLogger("Loopvol.Reserve"));
        Journal.Journal journal;
        try
        {
            var layout = new PoolLayout(settings.PoolDirectory);
            poolLock = PoolLock.Acquire(layout, $"loopvol driver, data directory {settings.DataDirectory}");
            JournalGuard.EnsureUsable(settings.JournalPath, layout);
            journal = Loopvol.Journal.Journal.Open(settings.JournalPath, new Journal.JournalOptions
            {
                Logger = loggerFactory.CreateLogger("Loopvol.Journal"),
                Faults = settings.Faults,
            });
        }
        catch
        {
            poolLock?.Dispose();
            reserve.Dispose();
            dataLock.Dispose();
            throw;
        }
        TlsMaterial? tls = null;
        CsiServer? agentServer = null;
        try
        {
            var images = new ImageStore(new PoolLayout(settings.PoolDirectory), settings.Faults);
            var poolLogger = loggerFactory.CreateLogger("Loopvol.Pool");
            PoolLog.Opened(poolLogger, settings.PoolDirectory, images.SupportsReflink);
            var pool = new StoragePool(journal, images, new PoolOptions
            {
                ReserveBytes = settings.PoolReserveBytes,
                // Twice the journal's reserve: a pool counts as full while what its release freed is all there is.
                FullBelowBytes = 2 * settings.JournalReserveBytes,
                OvercommitRatio = settings.OvercommitRatio,
                Faults = settings.Faults,
                Logger = poolLogger,
            });
            // A driver that died inside a group snapshot may have left file systems frozen and a group half made.
            var quiescer = new MountQuiescer(journal, settings.MaxFreeze, settings.Faults,
                loggerFactory.CreateLogger("Loopvol.Groups"), settings.FreezeGroups);
            quiescer.ThawAll();
            PoolLog.GroupsDiscarded(poolLogger, await pool.DiscardPartialGroupsAsync().ConfigureAwait(false));
            var findings = await PoolReconciler.ReconcileAsync(journal, images, poolLogger).ConfigureAwait(false);
            if (pool.RecordMissingImageRecords() is > 0 and var recorded)
            {
                PoolLog.ImageRecordsWritten(poolLogger, recorded);
            }
            var info = new DriverIdentity(settings.DriverName, DriverIdentity.AssemblyVersion);
            IReadOnlyList<IReadinessCheck> checks = [new DataDirectoryCheck(settings.DataDirectory), new JournalReadiness(journal)];
            var identity = new IdentityService(info, PluginCapabilities(), checks, loggerFactory.CreateLogger<IdentityService>());
            var agentMode = settings.Mode == DriverMode.Node;
            var controller = new ControllerService(pool, new ControllerOptions(settings.NodeId, settings.EnableAttach)
            {
                TagIds = agentMode, MaxVolumesPerNode = settings.MaxVolumesPerNode,
            });
            var groups = new GroupControllerService(pool, quiescer, settings.NodeId, agentMode);
            var metadata = new SnapshotMetadataService(pool, settings.NodeId);
            var nodeLogger = loggerFactory.CreateLogger("Loopvol.Node");
            var nodeVolumes = new NodeVolumes(journal, images.Layout, settings.Faults,
                new NodeHost.Paths.PathGuard(settings.DataDirectory, settings.PoolDirectory), nodeLogger);
            var repairs = await nodeVolumes.ReconcileAsync().ConfigureAwait(false);
            foreach (var repair in repairs)
            {
                NodeLog.Repaired(nodeLogger, repair.Repaired ? "repaired" : "left alone", repair.Subject, repair.What);
                if (repair.Repaired)
                {
                    DriverMeters.Repaired(repair.Kind);
                }
            }
            IReadOnlyList<string> left =
            [
                .. findings.Where(PoolReconciler.LeftForOperator).Select(f => DriverMeters.LabelOf(f.Kind.ToString())),
                .. repairs.Where(r => !r.Repaired).Select(r => r.Kind),
            ];
            NodeLog.Reconciled(nodeLogger, journal.NodeVolumes().Count, repairs.Count(r => r.Repaired),
                repairs.Count(r => !r.Repaired));
            await pool.ReleasePendingAsync().ConfigureAwait(false); // Thin volumes no longer attached after a crash.
            var node = new NodeService(nodeVolumes, new NodeOptions(settings.NodeId, settings.MaxVolumesPerNode));
            var options = ServerOptions(settings, null);
            var calls = new CallTracker();
            if (agentMode)
            {
                // The kubelet's socket serves the node; the pool is served to the controller alone, over mutual TLS.
                tls = settings.Tls!.Load();
                agentServer = CsiServer.Create(settings.AgentEndpoint!, new CsiServices(identity)
                {
                    Controller = controller,
                    GroupController = groups,
                    SnapshotMetadata = metadata,
                    Agent = new AgentService(pool, quiescer, info, settings.NodeId),
                }, ServerOptions(settings, tls), calls, loggerFactory);
            }
            // The plugin's capabilities are the same at every endpoint: its Controller is served, by the central one.
            var services = agentMode
                ? new CsiServices(identity) { Node = node }
                : new CsiServices(identity)
                {
                    Controller = controller,
                    Node = node,
                    GroupController = groups,
                    SnapshotMetadata = metadata,
                };
            var server = CsiServer.Create(settings.Endpoint, services, options, calls, loggerFactory);
            return new Driver(settings, dataLock, poolLock, reserve, journal, pool, server, calls,
                loggerFactory.CreateLogger("Loopvol.Driver")) { LeftForOperator = left, AgentServer = agentServer, Tls = tls };
        }
        catch
        {
            tls?.Dispose();
            journal.Dispose();
            poolLock.Dispose();
            reserve.Dispose();
            dataLock.Dispose();
            throw;
        }
    }

    /// <summary>What GetPluginCapabilities advertises: exactly the services implemented so far.</summary>
    internal static IReadOnlyList<PluginCapability> PluginCapabilities() =>
    [
        new() { Service = new() { Type = PluginCapability.Types.Service.Types.Type.ControllerService } },
        new() { Service = new() { Type = PluginCapability.Types.Service.Types.Type.VolumeAccessibilityConstraints } },
        new() { Service = new() { Type = PluginCapability.Types.Service.Types.Type.GroupControllerService } },
        new() { Service = new() { Type = PluginCapability.Types.Service.Types.Type.SnapshotMetadataService } },
        new() { VolumeExpansion = new() { Type = PluginCapability.Types.VolumeExpansion.Types.Type.Online } },
    ];

    /// <summary>The options of a server of this process, over mutual TLS with <paramref name="tls"/>.</summary>
    internal static CsiServerOptions ServerOptions(DriverSettings settings, TlsMaterial? tls) => new()
    {
        MaxReceiveMessageSize = settings.MaxMessageSize,
        ShutdownTimeout = settings.ShutdownTimeout,
        EnableReflection = settings.EnableReflection,
        Tls = tls,
    };

    /// <summary>
    /// Stops serving (in-flight calls get the shutdown timeout), then cancels the handlers still running, even
    /// those whose calls already ended, and waits for them and for the records of answered deletes to be removed
    /// before the journal closes. A handler that never returns keeps the journal open (the process is ending anyway)
    /// rather than have it closed under a write.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        await (AgentServer?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false);
        Tls?.Dispose();
        if (!await _calls.StopAsync(HandlerGrace).ConfigureAwait(false))
        {
            HandlersOutlivedShutdown(_logger, _calls.Running, HandlerGrace.TotalSeconds);
            return;
        }
        _calls.Dispose();
        await Pool.DrainDeletesAsync().ConfigureAwait(false);
        Journal.Dispose();
        _reserve.Dispose();
        _poolLock.Dispose();
        _dataLock.Dispose();
    }

    /// <summary>How long cancelled handlers get to return at shutdown.</summary>
    internal static TimeSpan HandlerGrace { get; set; } = TimeSpan.FromSeconds(30);

    [LoggerMessage(3, LogLevel.Error,
        "{Count} handler(s) still running {Seconds} s after shutdown cancelled them; the journal is left open")]
    private static partial void HandlersOutlivedShutdown(ILogger logger, int count, double seconds);

    private const UnixFileMode DataDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite |
                                                   UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                                                   UnixFileMode.GroupExecute;
}
