using System.CommandLine;
using System.Diagnostics;
using Loopvol.Core.Native;
using Loopvol.Csi.V1;

namespace Loopvol.Bench;

/// <summary>
/// The controller over its real socket, on a scratch pool file system: CreateVolume+DeleteVolume pairs per second,
/// and CreateSnapshot latency of a large volume holding real data.
/// </summary>
internal static class ControllerBenchmark
{
    private const long MiB = 1 << 20;

    public static Command Command()
    {
        var fs = new Option<string>("--fs") { Description = "Pool file system: xfs (reflink) or ext4", DefaultValueFactory = _ => "xfs" };
        var pairs = new Option<int>("--pairs") { Description = "CreateVolume+DeleteVolume pairs", DefaultValueFactory = _ => 500 };
        var sizeGiB = new Option<int>("--size-gib") { Description = "Size of the snapshotted volume", DefaultValueFactory = _ => 10 };
        var fillMiB = new Option<int>("--fill-mib") { Description = "Data written into it before snapshots", DefaultValueFactory = _ => 1024 };
        var snapshots = new Option<int>("--snapshots") { Description = "CreateSnapshot calls timed", DefaultValueFactory = _ => 20 };
        var command = new Command("controller", "CreateVolume+DeleteVolume rate and CreateSnapshot latency")
        {
            fs, pairs, sizeGiB, fillMiB, snapshots,
        };
        command.SetAction(async (r, ct) =>
        {
            var report = await RunAsync(r.GetValue(fs)!, r.GetValue(pairs), r.GetValue(sizeGiB) * 1024 * MiB,
                r.GetValue(fillMiB) * MiB, r.GetValue(snapshots));
            Console.WriteLine(report);
            return 0;
        });
        return command;
    }

    internal static async Task<string> RunAsync(string fsType, int pairs, long volumeBytes, long fillBytes, int snapshots)
    {
        await using var scratch = await ScratchDriver.StartAsync(fsType, volumeBytes + 8L * 1024 * MiB);
        var driver = scratch.Driver;
        var settings = driver.Settings;
        var client = scratch.Controller;

        for (var i = 0; i < 10; i++) // Warm-up, untimed: JIT, caches.
        {
            var warm = await CreateAsync(client, $"warm-{i}", 64 * MiB);
            await client.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = warm });
        }
        var createDelete = new Latencies(pairs);
        var total = Stopwatch.StartNew();
        for (var i = 0; i < pairs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var volume = await CreateAsync(client, $"pair-{i}", 64 * MiB);
            await client.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = volume });
            createDelete.Add(Stopwatch.GetElapsedTime(start));
        }
        var pairsPerSecond = pairs / total.Elapsed.TotalSeconds;

        var big = await CreateAsync(client, "big", volumeBytes);
        Fill(Path.Combine(settings.PoolDirectory, big + ".img"), fillBytes);
        var usedBefore = Used(settings.PoolDirectory);
        var snapshot = new Latencies(snapshots);
        for (var i = 0; i < snapshots; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var id = (await client.CreateSnapshotAsync(new CreateSnapshotRequest { Name = $"snap-{i}", SourceVolumeId = big }))
                .Snapshot.SnapshotId;
            snapshot.Add(Stopwatch.GetElapsedTime(start));
            if (i < snapshots - 1)
            {
                await client.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id });
            }
        }
        var usedAfter = Used(settings.PoolDirectory);
        await driver.Server.StopAsync();
        return string.Join('\n',
            $"pool: {fsType}, copies by {(driver.Pool.Images.SupportsReflink == true ? "reflink" : "sparse copy")}",
            "| measurement | calls | rate /s | p50 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|",
            $"| CreateVolume+DeleteVolume (64 MiB) | {pairs} | {pairsPerSecond:F0} | {Latencies.Ms(createDelete.Percentile(50))} | " +
            $"{Latencies.Ms(createDelete.Percentile(99))} | {Latencies.Ms(createDelete.Percentile(100))} |",
            $"| CreateSnapshot ({volumeBytes / (1024 * MiB)} GiB volume, {fillBytes / MiB} MiB data) | {snapshots} | - | " +
            $"{Latencies.Ms(snapshot.Percentile(50))} | {Latencies.Ms(snapshot.Percentile(99))} | {Latencies.Ms(snapshot.Percentile(100))} |",
            $"pool space used: {usedBefore / MiB} MiB before the snapshots, {usedAfter / MiB} MiB after (one snapshot kept)");
    }

    private static async Task<string> CreateAsync(Controller.ControllerClient client, string name, long bytes) =>
        (await client.CreateVolumeAsync(new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = bytes },
            VolumeCapabilities =
            {
                new VolumeCapability
                {
                    Mount = new VolumeCapability.Types.MountVolume(),
                    AccessMode = new VolumeCapability.Types.AccessMode
                    {
                        Mode = VolumeCapability.Types.AccessMode.Types.Mode.SingleNodeWriter,
                    },
                },
            },
        })).Volume.VolumeId;

    /// <summary>Writes random data into the first <paramref name="bytes"/> of an image, then syncs it.</summary>
    private static void Fill(string image, long bytes)
    {
        var chunk = new byte[4 * MiB];
        Random.Shared.NextBytes(chunk);
        using var handle = File.OpenHandle(image, FileMode.Open, FileAccess.Write);
        for (long offset = 0; offset < bytes; offset += chunk.Length)
        {
            RandomAccess.Write(handle, chunk, offset);
        }
        RandomAccess.FlushToDisk(handle);
    }

    private static long Used(string path)
    {
        var stats = FileSystemStats.Of(path);
        return stats.TotalBytes - stats.FreeBytes;
    }
}
