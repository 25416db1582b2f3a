using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Cluster.Services;
using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Csi.V1;
using Microsoft.Extensions.Logging;

namespace Loopvol.Hosting;

/// <summary>
/// The central controller (<c>--mode controller</c>, docs/cluster.md): Identity, Controller, GroupController and
/// SnapshotMetadata for the central sidecars, every call routed to the node agent that owns its object. It holds no
/// state of its own.
/// </summary>
public sealed class ClusterController : IAsyncDisposable
{
    private readonly TlsMaterial _tls;
    private readonly AgentConnections _connections;
    private readonly IAgentDirectory _directory;
    private readonly CallTracker _calls;
    private readonly GroupsAcrossNodes _groups;
    private readonly TimeSpan _settled;
    private readonly Timer _sweep;
    private readonly ILogger _logger;
    private int _sweeping;

    private ClusterController(CsiServer server, TlsMaterial tls, AgentConnections connections, IAgentDirectory directory,
        CallTracker calls, GroupsAcrossNodes groups, TimeSpan lease, ILogger logger)
    {
        Server = server;
        _tls = tls;
        _connections = connections;
        _directory = directory;
        _calls = calls;
        _groups = groups;
        _logger = logger;
        _settled = lease + TimeSpan.FromMinutes(1); // The lease, then the commit's deadline: no create is still under way.
        _sweep = new Timer(_ => _ = SweepOnceAsync(), null, SweepEvery, SweepEvery);
    }

    /// <summary>How often the controller looks for parts of group snapshots across nodes that never became complete.</summary>
    public static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    public CsiServer Server { get; }

    /// <summary>
    /// Discards every part of a group across nodes that never became complete and was made more than
    /// <paramref name="olderThan"/> ago (<see cref="GroupsAcrossNodes.SweepAsync"/>); run every <see cref="SweepEvery"/>.
    /// </summary>
    public Task<int> SweepGroupsAsync(TimeSpan olderThan, CancellationToken cancellationToken = default) =>
        _groups.SweepAsync(olderThan, cancellationToken);

    private async Task SweepOnceAsync()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }
        try
        {
            if (await SweepGroupsAsync(_settled).ConfigureAwait(false) is > 0 and var discarded)
            {
                ClusterLog.IncompleteGroupsDiscarded(_logger, discarded);
            }
        }
        catch (Exception e)
        {
            ClusterLog.SweepFailed(_logger, e.Message);
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Loads the TLS files and the agents' directory and builds the server, without serving yet.</summary>
    public static ClusterController Create(DriverSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (settings.Endpoint.SocketPath is { } socket)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(socket)!); // By default, <data-dir>/csi.sock.
        }
        var tls = settings.Tls!.Load();
        try
        {
            var logger = loggerFactory.CreateLogger("Loopvol.Cluster");
            IAgentDirectory directory = settings.AgentsFromKubernetes is { } kubernetes
                ? KubernetesAgents.Start(kubernetes, loggerFactory)
                : AgentsFile.Load(settings.AgentsFile!, logger);
            var connections = new AgentConnections(agent => CsiChannel.Create(
                GrpcEndpoint.Tcp(agent.Url.Host.Trim('[', ']'), agent.Url.Port), tls, logger,
                serverName: settings.TlsServerName), new AgentCallOptions());
            var forward = new Forwarder(directory, new Router(directory, connections), connections, settings.Faults);
            var groups = new GroupsAcrossNodes(forward, settings.MaxFreeze);
            var identity = new IdentityService(new DriverIdentity(settings.DriverName, DriverIdentity.AssemblyVersion),
                Driver.PluginCapabilities(), [], loggerFactory.CreateLogger<IdentityService>());
            var services = new CsiServices(identity)
            {
                Others =
                [
                    GrpcService.Of(new RoutingControllerService(forward,
                        new RoutingOptions(settings.EnableAttach) { DefaultNode = settings.DefaultNode }), Controller.Descriptor),
                    GrpcService.Of(new RoutingGroupControllerService(forward, groups), GroupController.Descriptor),
                    GrpcService.Of(new RoutingSnapshotMetadataService(forward), SnapshotMetadata.Descriptor),
                ],
            };
            var calls = new CallTracker();
            var server = CsiServer.Create(settings.Endpoint, services, Driver.ServerOptions(settings, null), calls, loggerFactory);
            return new ClusterController(server, tls, connections, directory, calls, groups, settings.MaxFreeze, logger);
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        await _calls.StopAsync(Driver.HandlerGrace).ConfigureAwait(false);
        _calls.Dispose();
        _connections.Dispose();
        (_directory as IDisposable)?.Dispose();
        _tls.Dispose();
    }
}
