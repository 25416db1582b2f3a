using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Net.Client;
using Loopvol.Bench.Tls;
using Loopvol.Core.Diagnostics;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Bench;

/// <summary>
/// The freeze window of group snapshots across nodes: three node agents and the central controller in this process
/// (mutual TLS on loopback), pools on one scratch XFS file system (reflink copies), every member staged (ext4) on
/// its node. For groups of each size, spread round-robin over the three nodes, each group snapshot is made through
/// the controller and deleted again; the window is the longest any node kept its members frozen (each agent's
/// <c>loopvol.node.freeze.duration</c>, first freeze to last thaw), which is how long an application stalled.
/// </summary>
internal static class GroupBenchmark
{
    private static readonly string[] Nodes = ["node-1", "node-2", "node-3"];

    public static Command Command()
    {
        var sizes = new Option<string>("--sizes") { Description = "Group sizes, comma-separated", DefaultValueFactory = _ => "2,8,32" };
        var groups = new Option<int>("--groups") { Description = "Group snapshots per size", DefaultValueFactory = _ => 50 };
        var command = new Command("groups", "Freeze window of group snapshots across three nodes") { sizes, groups };
        command.SetAction(async (r, ct) =>
        {
            Console.WriteLine(await RunAsync([.. r.GetValue(sizes)!.Split(',').Select(int.Parse)], r.GetValue(groups)));
            return 0;
        });
        return command;
    }

    internal static async Task<string> RunAsync(IReadOnlyList<int> sizes, int groups)
    {
        var most = sizes.Max();
        using var scratch = new ScratchFileSystem("xfs", (most * 80L << 20) + (2L << 30));
        var ca = TestCa.CreateRoot("loopvol bench CA");
        var agentTls = ca.Write(scratch.MountPoint, "agent", ca.Server(["loopvol-agent"]), ca);
        var controllerTls = ca.Write(scratch.MountPoint, "controller", ca.Client(), ca);
        var agents = new List<Driver>();
        ClusterController? controller = null;
        var staged = new List<(string Id, int Node, string Staging)>();
        var channels = new List<GrpcChannel>();
        try
        {
            foreach (var node in Nodes)
            {
                var agent = await Driver.CreateAsync(new DriverSettings
                {
                    Endpoint = GrpcEndpoint.Unix(Path.Combine(scratch.MountPoint, $"{node}.sock")),
                    NodeId = node,
                    DriverName = global::Loopvol.Csi.DriverIdentity.DefaultName,
                    DataDirectory = Path.Combine(scratch.MountPoint, node),
                    Mode = DriverMode.Node,
                    AgentEndpoint = GrpcEndpoint.Tcp("127.0.0.1", 0),
                    Tls = agentTls,
                }, NullLoggerFactory.Instance);
                agents.Add(agent);
                await agent.AgentServer!.StartAsync();
                await agent.Server.StartAsync();
            }
            var agentsFile = Path.Combine(scratch.MountPoint, "agents");
            await File.WriteAllLinesAsync(agentsFile, agents.Select((a, i) => $"{Nodes[i]} https://127.0.0.1:{a.AgentServer!.Endpoint.Port}"));
            var endpoint = GrpcEndpoint.Unix(Path.Combine(scratch.MountPoint, "controller.sock"));
            controller = ClusterController.Create(new DriverSettings
            {
                Endpoint = endpoint,
                NodeId = "controller",
                DriverName = global::Loopvol.Csi.DriverIdentity.DefaultName,
                DataDirectory = Path.Combine(scratch.MountPoint, "controller"),
                Mode = DriverMode.Controller,
                AgentsFile = agentsFile,
                Tls = controllerTls,
                TlsServerName = "loopvol-agent",
            }, NullLoggerFactory.Instance);
            await controller.Server.StartAsync();
            var central = CsiChannel.Create(endpoint);
            channels.Add(central);
            var nodeClients = agents.Select(a =>
            {
                var channel = CsiChannel.Create(a.Settings.Endpoint);
                channels.Add(channel);
                return new Node.NodeClient(channel);
            }).ToList();
            var capability = new VolumeCapability
            {
                Mount = new VolumeCapability.Types.MountVolume { FsType = "ext4" },
                AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
            };
            var controllerClient = new Controller.ControllerClient(central);
            for (var i = 0; i < most; i++)
            {
                var node = i % Nodes.Length;
                var id = (await controllerClient.CreateVolumeAsync(new CreateVolumeRequest
                {
                    Name = $"bench-{i}",
                    CapacityRange = new CapacityRange { RequiredBytes = 64L << 20 },
                    VolumeCapabilities = { capability },
                    AccessibilityRequirements = new TopologyRequirement { Preferred = { NodeTopology(Nodes[node]) } },
                })).Volume.VolumeId;
                var staging = Directory.CreateDirectory(Path.Combine(scratch.MountPoint, "kubelet", $"s{i}")).FullName;
                await nodeClients[node].NodeStageVolumeAsync(new NodeStageVolumeRequest
                {
                    VolumeId = id, StagingTargetPath = staging, VolumeCapability = capability,
                });
                staged.Add((id, node, staging));
                await File.WriteAllTextAsync(Path.Combine(staging, "data"), new string('x', 1 << 20));
            }

            var groupClient = new GroupController.GroupControllerClient(central);
            var lines = new List<string>
            {
                $"three node agents and the controller in one process; pools on XFS (reflink copies); 64 MiB ext4 members, staged; {groups} group snapshots per size",
                "| volumes | nodes | window p50 ms | window p99 ms | window max ms | create p50 ms | create p99 ms |",
                "|---:|---:|---:|---:|---:|---:|---:|",
            };
            using var freezes = new FreezeRecorder();
            foreach (var size in sizes)
            {
                var members = staged.Take(size).ToList();
                var window = new Latencies(groups);
                var create = new Latencies(groups);
                for (var g = 0; g < groups; g++)
                {
                    freezes.Clear();
                    var start = Stopwatch.GetTimestamp();
                    var group = (await groupClient.CreateVolumeGroupSnapshotAsync(new CreateVolumeGroupSnapshotRequest
                    {
                        Name = $"group-{size}-{g}", SourceVolumeIds = { members.Select(m => m.Id) },
                    })).GroupSnapshot;
                    create.Add(Stopwatch.GetElapsedTime(start));
                    window.Add(freezes.Longest());
                    await groupClient.DeleteVolumeGroupSnapshotAsync(new DeleteVolumeGroupSnapshotRequest
                    {
                        GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { group.Snapshots.Select(s => s.SnapshotId) },
                    });
                }
                lines.Add($"| {size} | {members.Select(m => m.Node).Distinct().Count()} | {Latencies.Ms(window.Percentile(50))} | " +
                          $"{Latencies.Ms(window.Percentile(99))} | {Latencies.Ms(window.Percentile(100))} | " +
                          $"{Latencies.Ms(create.Percentile(50))} | {Latencies.Ms(create.Percentile(99))} |");
            }
            foreach (var (id, node, staging) in staged)
            {
                await nodeClients[node].NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = id, StagingTargetPath = staging });
                await controllerClient.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id });
            }
            staged.Clear();
            return string.Join('\n', lines);
        }
        finally
        {
            await CleanUpAsync(agents, staged);
            channels.ForEach(c => c.Dispose());
            if (controller is not null)
            {
                await controller.DisposeAsync();
            }
            foreach (var agent in agents)
            {
                await agent.DisposeAsync();
            }
        }
    }

    private static Topology NodeTopology(string node) => global::Loopvol.Csi.Validation.NodeTopology.Of(node);

    /// <summary>After a failure: unmounts what is still staged, so no mount pins the scratch file system.</summary>
    private static async Task CleanUpAsync(List<Driver> agents, List<(string Id, int Node, string Staging)> staged)
    {
        foreach (var (id, node, staging) in staged)
        {
            using var channel = CsiChannel.Create(agents[node].Settings.Endpoint);
            try
            {
                await new Node.NodeClient(channel).NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = id, StagingTargetPath = staging });
            }
            catch (Grpc.Core.RpcException)
            {
                // Reported by the failure that got here; the scratch file system's removal will name what is left.
            }
        }
    }

    /// <summary>Every freeze the agents in this process record, from first freeze to last thaw on one node.</summary>
    private sealed class FreezeRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _seconds = [];

        public FreezeRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == DriverMeters.MeterName && instrument.Name == "loopvol.node.freeze.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, seconds, _, _) =>
            {
                lock (_seconds)
                {
                    _seconds.Add(seconds);
                }
            });
            _listener.Start();
        }

        public void Clear()
        {
            lock (_seconds)
            {
                _seconds.Clear();
            }
        }

        /// <summary>The longest freeze since <see cref="Clear"/>: how long the group stalled some application.</summary>
        public TimeSpan Longest()
        {
            lock (_seconds)
            {
                return _seconds.Count == 0 ? throw new InvalidOperationException("no freeze was recorded") : TimeSpan.FromSeconds(_seconds.Max());
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
