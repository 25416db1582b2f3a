using Loopvol.Bench.Csi;
using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
using Loopvol.Hosting;
using Loopvol.Tests.Node;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Bench;

public sealed class CsiBenchmarkTests : NodeFixture
{
    private CsiBenchOptions Small => new()
    {
        Pairs = 3, StormRounds = 1, SizeBytes = 512L << 20, FillBytes = 16L << 20, SnapshotRepeats = 2, Cycles = 2,
        GroupSizes = [1, 2], GroupRepeats = 1, ListVolumes = 25, PageSize = 10, SmallVolumeBytes = 16L << 20,
        ListVolumeBytes = 1L << 20, FsyncSamples = 20, ChangedBytes = 1L << 20,
        WorkDirectory = Kubelet.Combine("bench"),
    };

    /// <summary>The in-process driver's endpoint, as the benchmark's CSI channel takes it.</summary>
    private GrpcEndpoint Endpoint => Driver.Settings.Endpoint;

    [Test]
    public async Task EveryWorkload_ShortRun_MeasuresAndCleansUpEverything()
    {
        var results = await CsiBenchmark.RunAsync([Endpoint], Workloads.All, Small, default);

        Assert.That(results.Select(r => (r.Workload, r.Skipped, r.Failed)),
            Is.EqualTo(Workloads.All.Select(w => (w, (string?)null, (string?)null))));
        Assert.That(results.SelectMany(r => r.Measurements), Has.All.Matches<Measurement>(m => m.Calls > 0 && m.P50Ms > 0));
        var notes = string.Join('\n', results.SelectMany(r => r.Notes));
        Assert.That(notes, Does.Contain("1 for every name"), "idempotent-storm: one volume per name");
        Assert.That(notes, Does.Contain("(25 made by this run, expected 25)"), "list: every volume paged through once");
        Assert.That(notes, Does.Contain("every changed block covered"), "snapshot-delta: the delta covers every rewritten block");
        Assert.That(notes, Does.Contain("MiB from the storage (read_bytes)"), "snapshot-delta: the driver's reads were counted");
        Assert.That(results.SelectMany(r => r.CleanupFailures), Is.Empty, "every undo step succeeded");
        await Driver.Driver.Pool.DrainDeletesAsync(); // A delete's record goes just after its answer.
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "every volume, snapshot and group made by the run is deleted");
        Assert.That(WorkloadResult.Table(results), Does.Contain("| create-delete | CreateVolume+DeleteVolume, concurrency 16 | 3 |"));
        Assert.That(WorkloadResult.Table(results), Does.Contain("| transport | GetPluginInfo, concurrency 16 | 6 |"));
    }

    [Test]
    public async Task CompareEndpoint_RunsTheSameWorkloadOnBoth()
    {
        await using var other = await InProcessDriver.StartAsync();

        var second = other.Settings.Endpoint;

        var results = await CsiBenchmark.RunAsync([Endpoint, second], ["create-delete"], Small, default);

        Assert.That(results.Select(r => r.Endpoint), Is.EqualTo(new[] { Endpoint.ToString(), second.ToString() }));
        Assert.That(results, Has.All.Matches<WorkloadResult>(r => r.Ran && r.Measurements.Count == 2));
    }

    [Test]
    public async Task MetricsUrlAndFsyncProbe_AddFsyncsPerCall_AndTheFsyncLatency()
    {
        await using var metrics = MetricsServer.Create(MetricsAddress.Parse("127.0.0.1:0"), NullLoggerFactory.Instance);
        await metrics.StartAsync();
        await using var other = await InProcessDriver.StartAsync();
        var url = new Uri($"http://127.0.0.1:{metrics.Address.Port}{MetricsServer.Path}");
        var second = other.Settings.Endpoint.ToString();

        // The second endpoint has no metrics URL and no probe, as csi-driver-host-path is run.
        var results = await CsiBenchmark.RunAsync([new BenchEndpoint(Endpoint, url, MountPoint), other.Settings.Endpoint],
            ["create-delete"], Small, default);

        Assert.That(results.Select(r => (r.Workload, r.Endpoint, r.Failed)), Is.EqualTo(new[]
        {
            (FsyncProbe.Workload, Endpoint.ToString(), (string?)null), ("create-delete", Endpoint.ToString(), null),
            ("create-delete", second, null),
        }));
        var probe = results[0].Measurements.Single();
        Assert.That(probe.Calls, Is.EqualTo(Small.FsyncSamples));
        Assert.That(probe.P50Ms, Is.GreaterThan(0), "a measured fsync latency");
        var pairs = results[1].Measurements;
        // Alone, a pair makes its whole budget (the last sweep may land after the last scrape); at concurrency 16
        // pairs share commits and sweeps, so some syncs, and no more than the budget per pair.
        Assert.That(pairs[0].FsyncsPerCall, Is.InRange(FsyncBudget.JournalSyncsPerEmptyCreateDelete - 0.1,
            FsyncBudget.SyncsPerEmptyCreateDelete + 0.1), "the driver's count per pair, concurrency 1");
        Assert.That(pairs[1].FsyncsPerCall, Is.GreaterThan(0).And.LessThanOrEqualTo(FsyncBudget.SyncsPerEmptyCreateDelete + 0.1),
            "the driver's count per pair, concurrency 16");
        Assert.That(pairs[0].P50InFsyncs, Is.EqualTo(pairs[0].P50Ms / probe.P50Ms).Within(1e-9), "concurrency 1");
        Assert.That(pairs[1].P50InFsyncs, Is.Null);
        Assert.That(results[2].Measurements.Select(m => m.FsyncsPerCall), Has.All.Null, "no metrics URL, no count");
        var table = WorkloadResult.Table(results);
        Assert.That(table, Does.Contain("| p50 ms | p90 ms | p99 ms | fsyncs/call |"));
        Assert.That(table.Split('\n').Where(l => l.StartsWith($"| {second} |", StringComparison.Ordinal)),
            Has.Exactly(2).EndsWith("| \u2013 |"));
        Assert.That(table, Does.Contain("concurrency 1: p50 ").And.Contain(" fsync p50s"));
    }

    [Test]
    public async Task EndpointWithoutTheCapabilities_EveryWorkloadIsSkippedNotFailed()
    {
        using var dir = new TempDirectory();
        // The real server with only an Identity service that advertises nothing: every other method is UNIMPLEMENTED.
        var identity = new IdentityService(new DriverIdentity("identity-only.example.org", "1"), [], [],
            NullLogger<IdentityService>.Instance);
        using var tracker = new CallTracker();
        await using var server = CsiServer.Create(GrpcEndpoint.Unix(dir.Combine("csi.sock")), new CsiServices(identity),
            new CsiServerOptions(), tracker, NullLoggerFactory.Instance);
        await server.StartAsync();

        var results = await CsiBenchmark.RunAsync([server.Endpoint], Workloads.All, Small, default);

        Assert.That(results, Has.Count.EqualTo(Workloads.All.Count));
        Assert.That(results.Where(r => r.Workload != "transport"),
            Has.All.Matches<WorkloadResult>(r => r.Skipped != null && r.Failed == null));
        Assert.That(results.Single(r => r.Workload == "transport").Measurements.Select(m => m.Calls),
            Is.EqualTo(new[] { 2 * Small.Pairs, 2 * Small.Pairs }), "GetPluginInfo needs no capability");
        Assert.That(WorkloadResult.Table(results), Does.Contain("skipped: the endpoint does not advertise"));
    }

    [Test]
    public async Task Interrupted_StillDeletesWhatItMade()
    {
        const int acknowledged = 40;
        using var interrupt = new CancellationTokenSource();
        var made = 0;
        var options = Small with
        {
            ListVolumes = 1000,
            ListVolumeBytes = 1 << 20,
            Made = _ =>
            {
                if (Interlocked.Increment(ref made) == acknowledged)
                {
                    interrupt.Cancel(); // Ctrl-C while 16 creates are in flight: some are cut off.
                }
            },
        };

        var results = await CsiBenchmark.RunAsync([Endpoint], ["list"], options, interrupt.Token);

        var result = results.Single();
        Assert.That(result.Failed, Is.EqualTo("interrupted"));
        Assert.That(made, Is.InRange(acknowledged, acknowledged + 16), "the run stopped right after the interrupt");
        Assert.That(result.CleanupFailures, Is.Empty, "every undo step succeeded, cut-off creates included");
        await Driver.Driver.Pool.DrainDeletesAsync(); // A delete's record goes just after its answer.
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "what the interrupted workload made is deleted");
        Assert.That(Directory.EnumerateFiles(Driver.Settings.PoolDirectory, "*.img"), Is.Empty, "no image is left in the pool");
    }
}
