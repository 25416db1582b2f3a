using System.CommandLine;
using System.Diagnostics;
using Loopvol.Csi.V1;

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
        var client = scratch.Node;
        var capability = new VolumeCapability
        {
            Mount = new VolumeCapability.Types.MountVolume { FsType = fsType },
            AccessMode = new VolumeCapability.Types.AccessMode { Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter },
        };
        var volume = (await scratch.Controller.CreateVolumeAsync(new CreateVolumeRequest
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
            await client.NodeStageVolumeAsync(stage);
            await client.NodePublishVolumeAsync(publish);
            up.Add(Stopwatch.GetElapsedTime(start));
            start = Stopwatch.GetTimestamp();
            await client.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });
            await client.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });
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

    private static async Task Cycle(Node.NodeClient client, NodeStageVolumeRequest stage, NodePublishVolumeRequest publish)
    {
        await client.NodeStageVolumeAsync(stage);
        await client.NodePublishVolumeAsync(publish);
        await client.NodeUnpublishVolumeAsync(
            new NodeUnpublishVolumeRequest { VolumeId = stage.VolumeId, TargetPath = publish.TargetPath });
        await client.NodeUnstageVolumeAsync(
            new NodeUnstageVolumeRequest { VolumeId = stage.VolumeId, StagingTargetPath = stage.StagingTargetPath });
    }
}
