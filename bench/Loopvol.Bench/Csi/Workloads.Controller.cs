using System.Collections.Concurrent;
using Grpc.Core;
using Loopvol.Csi.V1;

namespace Loopvol.Bench.Csi;

/// <summary>Controller workloads: transport, create-delete, idempotent-storm, list.</summary>
internal static partial class Workloads
{
    /// <summary>
    /// GetPluginInfo, which does no work in any driver: what a call costs in the transport alone (the client, gRPC,
    /// HTTP/2 and the Unix socket), the floor under every other line. As many calls as create-delete makes.
    /// </summary>
    private static async Task TransportAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, CancellationToken ct)
    {
        foreach (var concurrency in new[] { 1, 16 })
        {
            result.Measurements.Add(await TimeAsync(t, $"GetPluginInfo, concurrency {concurrency}", 2 * o.Pairs,
                concurrency, async _ => await t.Identity.GetPluginInfoAsync(new GetPluginInfoRequest(), CsiTarget.Options(ct)),
                ct));
        }
    }

    private static async Task CreateDeleteAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, CancellationToken ct)
    {
        foreach (var concurrency in new[] { 1, 16 })
        {
            var measurement = await TimeAsync(t, $"CreateVolume+DeleteVolume, concurrency {concurrency}", o.Pairs,
                concurrency, async i =>
                {
                    var pair = new Cleanup(o.Made);
                    await CreateVolumeAsync(t, $"bench-cd-{concurrency}-{i}-{Guid.NewGuid():N}", o.SmallVolumeBytes, pair, ct);
                    // The DeleteVolume of the pair (and, if cut off, the create repeated by name first).
                    if (await pair.RunAsync() is { Count: > 0 } failed)
                    {
                        lock (result.CleanupFailures)
                        {
                            result.CleanupFailures.AddRange(failed);
                        }
                    }
                }, ct);
            // Issue 13's yardstick: a pair at concurrency 1 against the fsync latency of the same file system.
            result.Measurements.Add(concurrency == 1 && t.FsyncP50Ms is { } fsync
                ? measurement with { P50InFsyncs = measurement.P50Ms / fsync }
                : measurement);
        }
    }

    private static async Task StormAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var ids = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var aborted = 0;
        var run = Guid.NewGuid().ToString("N")[..8];
        result.Measurements.Add(await TimeAsync(t, "CreateVolume, 64 concurrent over 8 names", 64 * o.StormRounds, 64, async i =>
        {
            var name = $"bench-storm-{run}-{i / 64}-{i % 8}";
            try
            {
                ids.GetOrAdd(name, _ => []).Add(await CreateVolumeAsync(t, name, o.SmallVolumeBytes, cleanup, ct));
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Aborted)
            {
                Interlocked.Increment(ref aborted);
            }
        }, ct));
        var distinct = ids.Values.Select(b => b.Distinct().Count()).DefaultIfEmpty(0).ToList();
        result.Notes.Add($"distinct volumes per name: {(distinct.All(d => d == 1) ? "1 for every name" : string.Join(",", distinct))} " +
                         $"({ids.Count} names), {aborted} of {64 * o.StormRounds} calls answered ABORTED");
    }

    private static async Task ListAsync(CsiTarget t, CsiBenchOptions o, WorkloadResult result, Cleanup cleanup,
        CancellationToken ct)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var before = await CountVolumesAsync(t, o.PageSize, null, ct);
        result.Measurements.Add(await TimeAsync(t, $"CreateVolume of {o.ListVolumes} volumes (setup), concurrency 16",
            o.ListVolumes, 16, i => CreateVolumeAsync(t, $"bench-list-{run}-{i}", o.ListVolumeBytes, cleanup, ct), ct));
        var pages = new Latencies(o.ListVolumes / o.PageSize + 2);
        var fsyncs = await t.ReadFsyncsAsync(ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var listed = await CountVolumesAsync(t, o.PageSize, pages, ct);
        var elapsed = clock.Elapsed;
        result.Measurements.Add(Measurement.Of($"ListVolumes page of {o.PageSize}", pages, elapsed,
            await t.FsyncsSinceAsync(fsyncs, ct)));
        result.Notes.Add($"paged through {listed} volumes ({listed - before} made by this run, expected {o.ListVolumes}) " +
                         $"in {pages.Count} pages, {elapsed.TotalMilliseconds:F0} ms in all");
    }

    private static async Task<int> CountVolumesAsync(CsiTarget t, int pageSize, Latencies? pages, CancellationToken ct)
    {
        var total = 0;
        var token = "";
        do
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var page = await t.Controller.ListVolumesAsync(
                new ListVolumesRequest { MaxEntries = pageSize, StartingToken = token }, CsiTarget.Options(ct));
            pages?.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start));
            total += page.Entries.Count;
            token = page.NextToken;
        }
        while (token.Length > 0);
        return total;
    }
}
