using System.Diagnostics;
using Loopvol.Csi.V1;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Bench.Csi;

/// <summary>The named workloads, and what each needs from an endpoint.</summary>
internal static partial class Workloads
{
    public static readonly IReadOnlyList<string> All =
        ["transport", "create-delete", "idempotent-storm", "snapshot-large", "stage-publish", "group-snapshot", "list", "snapshot-delta"];

    /// <summary>Why <paramref name="workload"/> cannot run on <paramref name="target"/>, or null when it can.</summary>
    public static string? Unsupported(string workload, CsiTarget target)
    {
        string[] needs = workload switch
        {
            "transport" => [],
            "create-delete" or "idempotent-storm" => ["controller:CreateDeleteVolume"],
            "list" => ["controller:CreateDeleteVolume", "controller:ListVolumes"],
            "snapshot-large" => ["controller:CreateDeleteVolume", "controller:CreateDeleteSnapshot", "node:StageUnstageVolume"],
            "stage-publish" => ["controller:CreateDeleteVolume", "node:StageUnstageVolume"],
            "group-snapshot" => ["controller:CreateDeleteVolume", "group:CreateDeleteGetVolumeGroupSnapshot"],
            "snapshot-delta" =>
            [
                "controller:CreateDeleteVolume", "controller:CreateDeleteSnapshot", "node:StageUnstageVolume",
                "plugin:SnapshotMetadataService",
            ],
            _ => throw new ArgumentException($"unknown workload '{workload}'; known: {string.Join(", ", All)}"),
        };
        var missing = needs.Where(n => !target.Has(n)).ToList();
        return missing.Count == 0 ? null : $"the endpoint does not advertise {string.Join(", ", missing)}";
    }

    public static Task RunAsync(string workload, CsiTarget target, CsiBenchOptions options, WorkloadResult result,
        Cleanup cleanup, CancellationToken ct) => workload switch
    {
        "transport" => TransportAsync(target, options, result, ct),
        "create-delete" => CreateDeleteAsync(target, options, result, ct),
        "idempotent-storm" => StormAsync(target, options, result, cleanup, ct),
        "list" => ListAsync(target, options, result, cleanup, ct),
        "snapshot-large" => SnapshotLargeAsync(target, options, result, cleanup, ct),
        "stage-publish" => StagePublishAsync(target, options, result, cleanup, ct),
        "group-snapshot" => GroupSnapshotAsync(target, options, result, cleanup, ct),
        "snapshot-delta" => SnapshotDeltaAsync(target, options, result, cleanup, ct),
        _ => throw new ArgumentException(workload),
    };

    private static VolumeCapability Capability() => new()
    {
        Mount = new VolumeCapability.Types.MountVolume { FsType = "ext4" },
        AccessMode = new VolumeCapability.Types.AccessMode { Mode = Mode.SingleNodeWriter },
    };

    private static async Task<string> CreateVolumeAsync(CsiTarget t, string name, long bytes, Cleanup cleanup,
        CancellationToken ct, VolumeContentSource? source = null, bool block = false)
    {
        var request = new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = bytes },
            VolumeCapabilities = { block ? BlockCapability() : Capability() },
            VolumeContentSource = source,
        };
        return await cleanup.TrackAsync($"volume {name}",
            async options => (await t.Controller.CreateVolumeAsync(request, options)).Volume.VolumeId,
            async (id, options) => await t.Controller.DeleteVolumeAsync(new DeleteVolumeRequest { VolumeId = id }, options), ct);
    }

    /// <summary>
    /// Runs <paramref name="count"/> timed calls, <paramref name="concurrency"/> at a time; the target's fsync counter
    /// is read right before and after them.
    /// </summary>
    private static async Task<Measurement> TimeAsync(CsiTarget t, string label, int count, int concurrency,
        Func<int, Task> call, CancellationToken ct)
    {
        var fsyncs = await t.ReadFsyncsAsync(ct);
        var latencies = new Latencies(count);
        var progress = new Progress(label, count);
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                ct.ThrowIfCancellationRequested();
                var start = Stopwatch.GetTimestamp();
                await call(i).ConfigureAwait(false);
                var elapsed = Stopwatch.GetElapsedTime(start);
                lock (latencies)
                {
                    latencies.Add(elapsed);
                }
                progress.Step();
            }
        }));
        var elapsed = clock.Elapsed;
        return Measurement.Of(label, latencies, elapsed, await t.FsyncsSinceAsync(fsyncs, ct));
    }
}
