using Loopvol.Bench.Tls;
using Loopvol.Csi.Transport;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Hosting;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Three node agents (each a whole driver in node mode: its own data directory, pool, journal and node ID, its agent
/// endpoint on a loopback port over mutual TLS) and one central controller reading a static agents file, as
/// <c>--mode node</c> and <c>--mode controller</c> assemble them, in this process.
/// </summary>
internal sealed class ThreeNodes : IAsyncDisposable
{
    public static readonly string[] NodeIds = ["node-a", "node-b", "node-c"];

    /// <summary>The DNS name the agents' certificate carries (<c>--tls-server-name</c>).</summary>
    public const string ServerName = "loopvol-agent";

    private readonly TempDirectory _dir;
    private readonly List<InProcessDriver?> _nodes;

    private ThreeNodes(TempDirectory dir, List<InProcessDriver?> nodes, ClusterController controller, CsiClient client,
        TestCa ca, TlsFiles agentTls)
    {
        _dir = dir;
        _nodes = nodes;
        Controller = controller;
        Client = client;
        Ca = ca;
        AgentTls = agentTls;
    }

    public ClusterController Controller { get; }

    /// <summary>A CSI client of the controller's socket, as the central sidecars are.</summary>
    public CsiClient Client { get; }

    /// <summary>The CA of the agents and the controller.</summary>
    public TestCa Ca { get; }

    /// <summary>The agents' certificate, key and CA bundle.</summary>
    public TlsFiles AgentTls { get; }

    public InProcessDriver Node(int index) => _nodes[index] ?? throw new InvalidOperationException($"{NodeIds[index]} was stopped");

    /// <summary>The agent endpoint of node <paramref name="index"/>, as bound.</summary>
    public GrpcEndpoint AgentEndpoint(int index) => Node(index).Driver.AgentServer!.Endpoint;

    public static async Task<ThreeNodes> StartAsync(Func<int, DriverSettings, DriverSettings>? customize = null,
        Func<DriverSettings, DriverSettings>? controller = null)
    {
        var dir = new TempDirectory();
        var ca = TestCa.CreateRoot("loopvol test CA");
        // As the chart makes them: the agents' certificate names a DNS name, not the addresses they are dialled at.
        var agentTls = ca.Write(dir.Path, "agent", ca.Server([ServerName]), ca);
        var controllerTls = ca.Write(dir.Path, "controller", ca.Client(), ca);
        var nodes = new List<InProcessDriver?>();
        try
        {
            foreach (var (i, id) in NodeIds.Index())
            {
                nodes.Add(await InProcessDriver.StartAsync(s =>
                {
                    var node = s with
                    {
                        NodeId = id, Mode = DriverMode.Node, AgentEndpoint = GrpcEndpoint.Tcp("127.0.0.1", 0), Tls = agentTls,
                    };
                    return customize?.Invoke(i, node) ?? node;
                }));
            }
            var agents = dir.Combine("agents");
            await File.WriteAllLinesAsync(agents, nodes.Select((n, i) =>
                $"{NodeIds[i]} https://127.0.0.1:{n!.Driver.AgentServer!.Endpoint.Port}"));
            var settings = new DriverSettings
            {
                Endpoint = GrpcEndpoint.Unix(dir.Combine("controller.sock")),
                NodeId = "controller",
                DriverName = global::Loopvol.Csi.DriverIdentity.DefaultName,
                DataDirectory = dir.Combine("controller"),
                Mode = DriverMode.Controller,
                AgentsFile = agents,
                Tls = controllerTls,
                TlsServerName = ServerName,
            };
            settings = controller?.Invoke(settings) ?? settings;
            var central = ClusterController.Create(settings, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
            await central.Server.StartAsync();
            return new ThreeNodes(dir, nodes, central, new CsiClient(settings.Endpoint), ca, agentTls);
        }
        catch
        {
            foreach (var node in nodes)
            {
                await (node?.DisposeAsync() ?? ValueTask.CompletedTask);
            }
            dir.Dispose();
            throw;
        }
    }

    public Task<TResponse> CallAsync<TResponse>(string service, string method, Google.Protobuf.IMessage request)
        where TResponse : class, Google.Protobuf.IMessage<TResponse>, new() =>
        Client.UnaryAsync<TResponse>(service, method, request);

    /// <summary>Stops node <paramref name="index"/>'s driver, agent endpoint and all.</summary>
    public async Task StopNodeAsync(int index)
    {
        await Node(index).DisposeAsync();
        _nodes[index] = null;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Controller.DisposeAsync();
        foreach (var node in _nodes)
        {
            await (node?.DisposeAsync() ?? ValueTask.CompletedTask);
        }
        _dir.Dispose();
    }
}
