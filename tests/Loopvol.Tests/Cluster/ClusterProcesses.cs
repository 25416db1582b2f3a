using Loopvol.Bench.Tls;
using System.Net;
using System.Net.Sockets;
using Loopvol.Csi.Transport.Tls;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Node agents (two, or three) and a central controller as real processes (<c>--mode node</c> and <c>--mode controller</c>,
/// mutual TLS on loopback ports, a static agents file), each of which a test may start with a crash point, kill
/// and start again on the same data directory and port.
/// </summary>
internal sealed class ClusterProcesses : IAsyncDisposable
{
    public static readonly string[] NodeIds = ["node-a", "node-b", "node-c"];

    private readonly TempDirectory _dir = new();
    private readonly DriverProcess?[] _agents;
    private readonly int[] _ports;
    private readonly TlsFiles _agentTls;
    private readonly TlsFiles _controllerTls;
    private readonly string _agentsFile;
    private readonly string[] _extra;

    private ClusterProcesses(int nodes, string[] extra)
    {
        var ca = TestCa.CreateRoot("loopvol test CA");
        _agentTls = ca.Write(_dir.Path, "agent", ca.Server(["127.0.0.1"]), ca);
        _controllerTls = ca.Write(_dir.Path, "controller", ca.Client(), ca);
        _agents = new DriverProcess?[nodes];
        _ports = [.. Enumerable.Range(0, nodes).Select(_ => FreePort())];
        _agentsFile = _dir.Combine("agents");
        _extra = extra;
        File.WriteAllLines(_agentsFile, NodeIds.Take(nodes).Select((n, i) => $"{n} https://127.0.0.1:{_ports[i]}"));
    }

    public DriverProcess? Controller { get; private set; }

    public string ControllerData => _dir.Combine("controller");

    public string AgentData(int index) => _dir.Combine(NodeIds[index]);

    public DriverProcess Agent(int index) => _agents[index]!;

    /// <summary>Starts <paramref name="nodes"/> agents and the controller, every one with the flags <paramref name="extra"/>.</summary>
    public static async Task<ClusterProcesses> StartAsync(int nodes = 2, params string[] extra)
    {
        var cluster = new ClusterProcesses(nodes, extra);
        try
        {
            for (var i = 0; i < nodes; i++)
            {
                await cluster.StartAgentAsync(i);
            }
            await cluster.StartControllerAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts agent <paramref name="index"/>, stopping a running one first; with a crash point if given.</summary>
    public async Task StartAgentAsync(int index, string? crashAt = null)
    {
        await StopAsync(_agents[index]);
        _agents[index] = await DriverProcess.StartAsync(AgentData(index), Environment(crashAt),
            ["--mode", "node", "--nodeid", NodeIds[index], "--agent-endpoint", $"tcp://127.0.0.1:{_ports[index]}",
            "--tls-cert", _agentTls.CertificateFile, "--tls-key", _agentTls.KeyFile, "--tls-ca", _agentTls.CaFile, .. _extra]);
    }

    /// <summary>Stops agent <paramref name="index"/> (SIGTERM); <see cref="StartAgentAsync"/> brings it back.</summary>
    public async Task StopAgentAsync(int index)
    {
        await StopAsync(_agents[index]);
        _agents[index] = null;
    }

    /// <summary>Starts the controller, stopping a running one first; with a crash point if given.</summary>
    public async Task StartControllerAsync(string? crashAt = null)
    {
        await StopAsync(Controller);
        Controller = await DriverProcess.StartAsync(ControllerData, Environment(crashAt),
            ["--mode", "controller", "--agents-file", _agentsFile,
            "--tls-cert", _controllerTls.CertificateFile, "--tls-key", _controllerTls.KeyFile, "--tls-ca", _controllerTls.CaFile, .. _extra]);
    }

    public CsiClient Client() => new(Controller!.Endpoint);

    /// <summary>Stops every process gracefully (SIGTERM), so their journals close.</summary>
    public async Task StopAllAsync()
    {
        await StopAsync(Controller);
        Controller = null;
        for (var i = 0; i < _agents.Length; i++)
        {
            await StopAsync(_agents[i]);
            _agents[i] = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync();
        _dir.Dispose();
    }

    private static async Task StopAsync(DriverProcess? process)
    {
        if (process is null)
        {
            return;
        }
        if (!process.HasExited)
        {
            process.Signal(15);
            await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        await process.DisposeAsync();
    }

    private static Dictionary<string, string> Environment(string? crashAt) =>
        crashAt is null ? [] : new() { ["LOOPVOL_TEST_CRASH_AT"] = crashAt };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
