using Loopvol.Bench.Csi;
using Loopvol.Core.Concurrency;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.Transport;
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
        ListVolumeBytes = 1L << 20,
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
        Assert.That(results.SelectMany(r => r.CleanupFailures), Is.Empty, "every undo step succeeded");
        await Driver.Driver.Pool.DrainDeletesAsync(); // A delete's record goes just after its answer.
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "every volume, snapshot and group made by the run is deleted");
        Assert.That(WorkloadResult.Table(results), Does.Contain("| create-delete | CreateVolume+DeleteVolume, concurrency 16 | 3 |"));
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
        Assert.That(results, Has.All.Matches<WorkloadResult>(r => r.Skipped != null && r.Failed == null));
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
