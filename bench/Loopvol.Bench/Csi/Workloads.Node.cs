using System.Diagnostics;
using Loopvol.Csi.V1;

namespace Loopvol.Bench.Csi;

/// <summary>Workloads that move data through the node: snapshot-large, stage-publish, group-snapshot.</summary>
internal static partial class Workloads
{
    private static async Task SnapshotLargeAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var capacityBefore = await AvailableAsync(t, ct);
        var volume = await CreateVolumeAsync(t, $"bench-large-{Guid.NewGuid():N}", o.SizeBytes, cleanup, ct);
        var (staging, target) = await StageAndPublishAsync(t, volume, o, "large", cleanup, ct);
        var fill = Stopwatch.StartNew();
        await FillAsync(Path.Combine(target, "fill.bin"), o.FillBytes, ct);
        result.Notes.Add($"filled {o.FillBytes >> 20} MiB through {target} in {fill.Elapsed.TotalSeconds:F1} s");
        var capacityFilled = await AvailableAsync(t, ct);
        var snapshots = new List<string>();
        result.Measurements.Add(await TimeAsync(t, $"CreateSnapshot ({o.SizeBytes >> 30} GiB volume, {o.FillBytes >> 20} MiB data)",
            o.SnapshotRepeats, 1, async i =>
            {
                var request = new CreateSnapshotRequest { Name = $"bench-large-snap-{Guid.NewGuid():N}", SourceVolumeId = volume };
                snapshots.Add(await cleanup.TrackAsync($"snapshot {request.Name}",
                    async options => (await t.Controller.CreateSnapshotAsync(request, options)).Snapshot.SnapshotId,
                    async (id, options) => await t.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id }, options),
                    ct));
            }, ct));
        result.Measurements.Add(await TimeAsync(t, "CreateVolume from that snapshot", o.SnapshotRepeats, 1, i =>
            CreateVolumeAsync(t, $"bench-large-restore-{Guid.NewGuid():N}", o.SizeBytes, cleanup, ct,
                new VolumeContentSource { Snapshot = new() { SnapshotId = snapshots[i % snapshots.Count] } }), ct));
        var capacityAfter = await AvailableAsync(t, ct);
        if (capacityBefore is { } b && capacityFilled is { } f && capacityAfter is { } a)
        {
            result.Notes.Add($"GetCapacity available: {b >> 20} MiB before, {f >> 20} MiB after the fill, {a >> 20} MiB after " +
                             $"{o.SnapshotRepeats} snapshots and {o.SnapshotRepeats} restores");
        }
        _ = staging;
    }

    private static async Task StagePublishAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var volume = await CreateVolumeAsync(t, $"bench-cycle-{Guid.NewGuid():N}", o.SmallVolumeBytes, cleanup, ct);
        var staging = Directory.CreateDirectory(Path.Combine(o.WorkDirectory, $"staging-cycle-{Guid.NewGuid():N}")).FullName;
        var target = Path.Combine(o.WorkDirectory, $"target-cycle-{Guid.NewGuid():N}");
        cleanup.Add($"staging {staging}", () => Task.Run(() => Directory.Delete(staging, recursive: false)));
        cleanup.Add($"unpublish and unstage {volume}", () => UnpublishAndUnstageAsync(t, volume, staging, target));
        await UpAsync(t, volume, staging, target, ct); // Formats the volume: not timed.
        await UnpublishAndUnstageAsync(t, volume, staging, target);
        var up = new Latencies(o.Cycles);
        var down = new Latencies(o.Cycles);
        // With a metrics URL the counter is read around each half, outside its timing and the rate's clock.
        double? upFsyncs = null, downFsyncs = null;
        var reading = TimeSpan.Zero;
        var progress = new Progress("stage+publish cycles", o.Cycles);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < o.Cycles; i++)
        {
            ct.ThrowIfCancellationRequested();
            var read = Stopwatch.GetTimestamp();
            var fsyncs = await t.ReadFsyncsAsync(ct);
            reading += Stopwatch.GetElapsedTime(read);
            var start = Stopwatch.GetTimestamp();
            await UpAsync(t, volume, staging, target, ct);
            up.Add(Stopwatch.GetElapsedTime(start));
            read = Stopwatch.GetTimestamp();
            var between = await t.ReadFsyncsAsync(ct);
            reading += Stopwatch.GetElapsedTime(read);
            start = Stopwatch.GetTimestamp();
            await UnpublishAndUnstageAsync(t, volume, staging, target);
            down.Add(Stopwatch.GetElapsedTime(start));
            read = Stopwatch.GetTimestamp();
            upFsyncs = (upFsyncs ?? 0) + (between - fsyncs);
            downFsyncs = (downFsyncs ?? 0) + await t.FsyncsSinceAsync(between, ct);
            reading += Stopwatch.GetElapsedTime(read);
            progress.Step();
        }
        var elapsed = clock.Elapsed - reading;
        result.Measurements.Add(Measurement.Of("NodeStage+NodePublish", up, elapsed, upFsyncs));
        result.Measurements.Add(Measurement.Of("NodeUnpublish+NodeUnstage", down, elapsed, downFsyncs));
    }

    private static async Task GroupSnapshotAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var volumes = new List<string>();
        for (var i = 0; i < o.GroupSizes.Max(); i++)
        {
            volumes.Add(await CreateVolumeAsync(t, $"bench-group-{Guid.NewGuid():N}", o.SmallVolumeBytes, cleanup, ct));
        }
        foreach (var size in o.GroupSizes)
        {
            result.Measurements.Add(await TimeAsync(t, $"CreateVolumeGroupSnapshot of {size} volume(s)", o.GroupRepeats, 1, async _ =>
            {
                var request = new CreateVolumeGroupSnapshotRequest
                {
                    Name = $"bench-group-{Guid.NewGuid():N}", SourceVolumeIds = { volumes.Take(size) },
                };
                var members = new Dictionary<string, IReadOnlyList<string>>();
                await cleanup.TrackAsync($"group snapshot {request.Name}", async options =>
                {
                    var group = (await t.Group.CreateVolumeGroupSnapshotAsync(request, options)).GroupSnapshot;
                    members[group.GroupSnapshotId] = group.Snapshots.Select(s => s.SnapshotId).ToList();
                    return group.GroupSnapshotId;
                }, async (id, options) => await t.Group.DeleteVolumeGroupSnapshotAsync(
                    new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = id, SnapshotIds = { members[id] } }, options), ct);
            }, ct));
        }
    }

    private static async Task<(string Staging, string Target)> StageAndPublishAsync(CsiTarget t, string volume,
        CsiBenchOptions o, string tag, Cleanup cleanup, CancellationToken ct, VolumeCapability? capability = null)
    {
        var staging = Directory.CreateDirectory(Path.Combine(o.WorkDirectory, $"staging-{tag}-{Guid.NewGuid():N}")).FullName;
        var target = Path.Combine(o.WorkDirectory, $"target-{tag}-{Guid.NewGuid():N}");
        cleanup.Add($"staging {staging}", () => Task.Run(() => Directory.Delete(staging, recursive: false)));
        cleanup.Add($"unpublish and unstage {volume}", () => UnpublishAndUnstageAsync(t, volume, staging, target));
        await UpAsync(t, volume, staging, target, ct, capability);
        return (staging, target);
    }

    private static async Task UpAsync(CsiTarget t, string volume, string staging, string target, CancellationToken ct,
        VolumeCapability? capability = null)
    {
        capability ??= Capability();
        await t.Node.NodeStageVolumeAsync(
            new NodeStageVolumeRequest { VolumeId = volume, StagingTargetPath = staging, VolumeCapability = capability },
            CsiTarget.Options(ct));
        await t.Node.NodePublishVolumeAsync(new NodePublishVolumeRequest
        {
            VolumeId = volume, StagingTargetPath = staging, TargetPath = target, VolumeCapability = capability,
        }, CsiTarget.Options(ct));
    }

    private static async Task UnpublishAndUnstageAsync(CsiTarget t, string volume, string staging, string target)
    {
        await t.Node.NodeUnpublishVolumeAsync(new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target },
            CsiTarget.Options(default));
        await t.Node.NodeUnstageVolumeAsync(new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging },
            CsiTarget.Options(default));
    }

    private static async Task<long?> AvailableAsync(CsiTarget t, CancellationToken ct) =>
        t.Has("controller:GetCapacity")
            ? (await t.Controller.GetCapacityAsync(new GetCapacityRequest(), CsiTarget.Options(ct))).AvailableCapacity
            : null;

    /// <summary>Writes random data through a published volume, then syncs it to the device.</summary>
    private static async Task FillAsync(string file, long bytes, CancellationToken ct)
    {
        var chunk = new byte[4 << 20];
        Random.Shared.NextBytes(chunk);
        var progress = new Progress("fill", (int)Math.Max(1, bytes / chunk.Length));
        await using var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0; written < bytes; written += chunk.Length)
        {
            await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - written)), ct);
            progress.Step();
        }
        stream.Flush(flushToDisk: true);
    }
}
