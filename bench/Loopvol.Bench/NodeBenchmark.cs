using System.CommandLine;
using System.Diagnostics;
using Loopvol.Csi;
using Loopvol.Csi.V1;
using Loopvol.Grpc.Client;

namespace Loopvol.Bench;

/// <summary>Stage+publish and unpublish+unstage cycles of one already-formatted volume, over the real socket.</summary>
internal static class NodeBenchmark
{
    public static Command Command()
    {
        var fs = new Option<string>("--fs") { Description = "The volume's file system: ext4 or xfs", DefaultValueFactory = _ => "ext4" };
        var cycles = new Option<int>("--cycles") { Description = "Stage+publish / unpublish+unstage cycles", DefaultValueFactory = _ => 200 };
        var command = new Command("node", "Stage+publish and unpublish+unstage latency") { fs, cycles };
        command.SetAction(async (r, ct) =>
        {
            Console.WriteLine(await RunAsync(r.GetValue(fs)!, r.GetValue(cycles)));
            return 0;
        });
        return command;
    }

    internal static async Task<string> RunAsync(string fsType, int cycles)
    {
        await using var scratch = await ScratchDriver.StartAsync("xfs", 4L << 30);
        var kubelet = Path.Combine(scratch.MountPoint, "kubelet");
        var staging = Directory.CreateDirectory(Path.Combine(kubelet, "staging")).FullName;
        var target = Path.Combine(kubelet, "pods", "target");
        var driver = scratch.Driver;
        var client = scratch.Client;
        var capability = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume { FsType = fsType },
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
        };
        var volume = (await client.UnaryAsync<CreateVolumeResponse>(CsiServices.Method("Controller", "CreateVolume"),
            new CreateVolumeRequest
            {
                Name = "bench", CapacityRange = new CapacityRange { RequiredBytes = 1L << 30 }, VolumeCapabilities = { capability },
            })).Volume.VolumeId;
        var stage = new NodeStageVolumeRequest { VolumeId = volume, StagingTargetPath = staging, VolumeCapability = capability };
        var publish = new NodePublishVolumeRequest
        {
            VolumeId = volume, StagingTargetPath = staging, TargetPath = target, VolumeCapability = capability,
        };
        await Cycle(client, stage, publish); // Formats the volume and warms up; untimed.

        var up = new Latencies(cycles);
        var down = new Latencies(cycles);
        for (var i = 0; i < cycles; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await Node<NodeStageVolumeResponse>(client, "NodeStageVolume", stage);
            await Node<NodePublishVolumeResponse>(client, "NodePublishVolume", publish);
            up.Add(Stopwatch.GetElapsedTime(start));
            start = Stopwatch.GetTimestamp();
            await Node<NodeUnpublishVolumeResponse>(client, "NodeUnpublishVolume",
                new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });
            await Node<NodeUnstageVolumeResponse>(client, "NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });
            down.Add(Stopwatch.GetElapsedTime(start));
        }
        await driver.Server.StopAsync();
        return string.Join('\n',
            $"volume: 1 GiB {fsType}, already formatted; pool on XFS",
            "| pair | cycles | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|",
            $"| NodeStage+NodePublish | {cycles} | {Latencies.Ms(up.Percentile(50))} | {Latencies.Ms(up.Percentile(99))} | {Latencies.Ms(up.Percentile(100))} |",
            $"| NodeUnpublish+NodeUnstage | {cycles} | {Latencies.Ms(down.Percentile(50))} | {Latencies.Ms(down.Percentile(99))} | {Latencies.Ms(down.Percentile(100))} |");
    }

    private static async Task Cycle(GrpcClient client, NodeStageVolumeRequest stage, NodePublishVolumeRequest publish)
    {
        await Node<NodeStageVolumeResponse>(client, "NodeStageVolume", stage);
        await Node<NodePublishVolumeResponse>(client, "NodePublishVolume", publish);
        await Node<NodeUnpublishVolumeResponse>(client, "NodeUnpublishVolume",
            new NodeUnpublishVolumeRequest { VolumeId = stage.VolumeId, TargetPath = publish.TargetPath });
        await Node<NodeUnstageVolumeResponse>(client, "NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = stage.VolumeId, StagingTargetPath = stage.StagingTargetPath });
    }

    private static Task<T> Node<T>(GrpcClient client, string method, Google.Protobuf.IMessage request)
        where T : class, Google.Protobuf.IMessage<T>, new() => client.UnaryAsync<T>(CsiServices.Method("Node", method), request);
}
