using Loopvol.Bench.Csi;
using Loopvol.Csi;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
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

    [Test]
    public async Task EveryWorkload_ShortRun_MeasuresAndCleansUpEverything()
    {
        var results = await CsiBenchmark.RunAsync([Driver.Settings.Endpoint], Workloads.All, Small, default);

        Assert.That(results.Select(r => (r.Workload, r.Skipped, r.Failed)),
            Is.EqualTo(Workloads.All.Select(w => (w, (string?)null, (string?)null))));
        Assert.That(results.SelectMany(r => r.Measurements), Has.All.Matches<Measurement>(m => m.Calls > 0 && m.P50Ms > 0));
        var notes = string.Join('\n', results.SelectMany(r => r.Notes));
        Assert.That(notes, Does.Contain("1 for every name"), "idempotent-storm: one volume per name");
        Assert.That(notes, Does.Contain("(25 made by this run, expected 25)"), "list: every volume paged through once");
        Assert.That(notes, Does.Not.Contain("cleanup failed"));
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "every volume, snapshot and group made by the run is deleted");
        Assert.That(WorkloadResult.Table(results), Does.Contain("| create-delete | CreateVolume+DeleteVolume, concurrency 16 | 3 |"));
    }

    [Test]
    public async Task CompareEndpoint_RunsTheSameWorkloadOnBoth()
    {
        await using var other = await InProcessDriver.StartAsync();

        var results = await CsiBenchmark.RunAsync([Driver.Settings.Endpoint, other.Settings.Endpoint], ["create-delete"], Small, default);

        Assert.That(results.Select(r => r.Endpoint), Is.EqualTo(new[] { Driver.Settings.Endpoint.ToString(), other.Settings.Endpoint.ToString() }));
        Assert.That(results, Has.All.Matches<WorkloadResult>(r => r.Ran && r.Measurements.Count == 2));
    }

    [Test]
    public async Task EndpointWithoutTheCapabilities_EveryWorkloadIsSkippedNotFailed()
    {
        using var dir = new TempDirectory();
        var identity = new IdentityService(new DriverIdentity("identity-only.example.org", "1"), [], [],
            NullLogger<IdentityService>.Instance);
        var registry = new GrpcServiceRegistry(CsiServices.All)
            .MapUnary<GetPluginInfoRequest, GetPluginInfoResponse>(CsiServices.Method("Identity", "GetPluginInfo"), identity.GetPluginInfoAsync)
            .MapUnary<GetPluginCapabilitiesRequest, GetPluginCapabilitiesResponse>(
                CsiServices.Method("Identity", "GetPluginCapabilities"), identity.GetPluginCapabilitiesAsync);
        var endpoint = GrpcEndpoint.Unix(dir.Combine("csi.sock"));
        await using var server = GrpcServer.Create(endpoint, registry, new GrpcServerOptions(), NullLoggerFactory.Instance);
        await server.StartAsync();

        var results = await CsiBenchmark.RunAsync([endpoint], Workloads.All, Small, default);

        Assert.That(results, Has.Count.EqualTo(Workloads.All.Count));
        Assert.That(results, Has.All.Matches<WorkloadResult>(r => r.Skipped != null && r.Failed == null));
        Assert.That(WorkloadResult.Table(results), Does.Contain("skipped: the endpoint does not advertise"));
    }

    [Test]
    public async Task Interrupted_StillDeletesWhatItMade()
    {
        using var interrupt = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        var results = await CsiBenchmark.RunAsync([Driver.Settings.Endpoint], ["list"],
            Small with { ListVolumes = 1000, ListVolumeBytes = 1 << 20 },
            interrupt.Token);

        Assert.That(results.Single().Failed, Is.EqualTo("interrupted"));
        Assert.That(Driver.Driver.Journal.All(), Is.Empty, "what the interrupted workload made is deleted");
    }
}
