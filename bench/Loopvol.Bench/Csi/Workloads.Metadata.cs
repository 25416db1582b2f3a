using System.Diagnostics;
using Grpc.Core;
using Loopvol.Csi.V1;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Bench.Csi;

/// <summary>
/// snapshot-delta: changed-block tracking. A block volume gets <see cref="CsiBenchOptions.FillBytes"/> of random data
/// in 1 MiB pieces at random places, a snapshot, then <see cref="CsiBenchOptions.ChangedBytes"/> rewritten in random
/// 4 KiB blocks of that data, and a second snapshot. GetMetadataDelta between the two is then read to its end, each
/// time after the page cache is dropped, and timed; the driver's own reads (/proc/PID/io of the process on the
/// socket) are counted around each. The answer must cover every rewritten block.
/// </summary>
internal static partial class Workloads
{
    private const int Block = 4096;

    private static async Task SnapshotDeltaAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var pid = t.Endpoint.SocketPath is { } socket ? ProcessIo.ListeningOn(socket) : null;
        var volume = await CreateVolumeAsync(t, $"bench-delta-{Guid.NewGuid():N}", o.SizeBytes, cleanup, ct, block: true);
        var (_, device) = await StageAndPublishAsync(t, volume, o, "delta", cleanup, ct, BlockCapability());
        var random = new Random(17);
        var pieces = Enumerable.Range(0, (int)(o.SizeBytes >> 20)).OrderBy(_ => random.Next()).Take((int)(o.FillBytes >> 20))
            .Select(p => (long)p << 20).ToList();
        var fill = Stopwatch.StartNew();
        await WriteAsync(device, pieces, 1 << 20, random, ct);
        var changed = pieces.SelectMany(p => Enumerable.Range(0, (1 << 20) / Block).Select(b => p + ((long)b * Block)))
            .OrderBy(_ => random.Next()).Take((int)(o.ChangedBytes / Block)).Order().ToList();
        var snapshots = new List<string>();
        snapshots.Add(await SnapshotAsync(t, volume, cleanup, ct));
        await WriteAsync(device, changed, Block, random, ct);
        snapshots.Add(await SnapshotAsync(t, volume, cleanup, ct));
        result.Notes.Add($"wrote {o.FillBytes >> 20} MiB in 1 MiB pieces through {device}, snapshot, rewrote {changed.Count} " +
                         $"random 4 KiB blocks of it ({o.ChangedBytes >> 20} MiB), snapshot: {fill.Elapsed.TotalSeconds:F1} s");

        var reads = new List<ProcessIo>();
        IReadOnlyList<BlockMetadata> ranges = [];
        var latencies = new Latencies(o.SnapshotRepeats);
        var elapsed = TimeSpan.Zero;
        for (var i = 0; i < o.SnapshotRepeats; i++)
        {
            ProcessIo.DropCaches();
            var before = pid is { } p ? ProcessIo.Of(p) : null;
            var clock = Stopwatch.StartNew();
            ranges = await DeltaAsync(t, snapshots[0], snapshots[1], ct);
            latencies.Add(clock.Elapsed);
            elapsed += clock.Elapsed;
            if (pid is { } q)
            {
                reads.Add(ProcessIo.Of(q) - before!);
            }
        }
        result.Measurements.Add(Measurement.Of(
            $"GetMetadataDelta ({o.SizeBytes >> 30} GiB volume, {o.FillBytes >> 20} MiB data, {o.ChangedBytes >> 20} MiB changed; cold cache)",
            latencies, elapsed));
        var reported = ranges.Sum(r => r.SizeBytes);
        var missed = changed.Count(c => !Covers(ranges, c));
        result.Notes.Add($"delta: {ranges.Count} ranges, {reported >> 20} MiB reported for {o.ChangedBytes >> 20} MiB changed; " +
                         (missed == 0 ? "every changed block covered" : $"MISSED {missed} changed blocks"));
        result.Notes.Add(pid is null
            ? "bytes read by the driver: not known (no process found listening on the endpoint)"
            : $"bytes read by the driver (pid {pid}) per delta, median: {Median(reads, r => r.ReadChars) >> 20} MiB through read " +
              $"calls (rchar), {Median(reads, r => r.ReadBytes) >> 20} MiB from the storage (read_bytes)");
    }

    private static VolumeCapability BlockCapability() => new()
    {
        Block = new VolumeCapability.Types.BlockVolume(),
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
    };

    private static async Task<string> SnapshotAsync(CsiTarget t, string volume, Cleanup cleanup, CancellationToken ct)
    {
        var request = new CreateSnapshotRequest { Name = $"bench-delta-snap-{Guid.NewGuid():N}", SourceVolumeId = volume };
        return await cleanup.TrackAsync($"snapshot {request.Name}",
            async options => (await t.Controller.CreateSnapshotAsync(request, options)).Snapshot.SnapshotId,
            async (id, options) => await t.Controller.DeleteSnapshotAsync(new DeleteSnapshotRequest { SnapshotId = id }, options), ct);
    }

    /// <summary>Every range of the delta, read to the end of the stream.</summary>
    private static async Task<IReadOnlyList<BlockMetadata>> DeltaAsync(CsiTarget t, string baseId, string targetId, CancellationToken ct)
    {
        var ranges = new List<BlockMetadata>();
        using var call = t.Metadata.GetMetadataDelta(
            new GetMetadataDeltaRequest { BaseSnapshotId = baseId, TargetSnapshotId = targetId }, CsiTarget.Options(ct));
        await foreach (var response in call.ResponseStream.ReadAllAsync(ct))
        {
            ranges.AddRange(response.BlockMetadata);
        }
        return ranges;
    }

    private static bool Covers(IReadOnlyList<BlockMetadata> ranges, long offset)
    {
        var lo = 0;
        var hi = ranges.Count - 1;
        while (lo <= hi) // Ranges come in offset order.
        {
            var mid = (lo + hi) / 2;
            var r = ranges[mid];
            if (offset < r.ByteOffset)
            {
                hi = mid - 1;
            }
            else if (offset + Block > r.ByteOffset + r.SizeBytes)
            {
                lo = mid + 1;
            }
            else
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Random data at each offset, <paramref name="length"/> bytes each, then synced to the device.</summary>
    private static async Task WriteAsync(string device, IReadOnlyList<long> offsets, int length, Random random, CancellationToken ct)
    {
        var buffer = new byte[length];
        using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Write);
        var progress = new Progress("write", offsets.Count);
        foreach (var offset in offsets)
        {
            random.NextBytes(buffer);
            await RandomAccess.WriteAsync(handle, buffer, offset, ct);
            progress.Step();
        }
        RandomAccess.FlushToDisk(handle);
    }

    private static long Median(List<ProcessIo> reads, Func<ProcessIo, long> value) =>
        reads.Count == 0 ? 0 : (long)Latencies.Percentile(reads.Select(r => (double)value(r)), 50);
}
