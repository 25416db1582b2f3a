using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Loopvol.NodeHost.Mounts;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Hosting;

/// <summary>
/// The driver's metrics, scraped from its real listener while real calls run: a pool on XFS, volumes staged,
/// published and frozen for a group snapshot on real loop devices and mounts. What moves, moves by exactly the calls
/// made; and the scrape has exactly the metrics docs/metrics.md lists.
/// </summary>
public sealed class DriverMetricsTests() : OnLoopFileSystem("xfs")
{
    private const long MiB = 1 << 20;

    [Test]
    public async Task NodeLifecycleAndGroupSnapshot_ScrapeHasEveryDocumentedMetric_AndTheNodeGauges()
    {
        using var kubelet = new TempDirectory();
        var staging = kubelet.Combine("staging");
        var target = kubelet.Combine("target");
        await using var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = Path.Combine(MountPoint, $"data-{Guid.NewGuid():N}") });
        await using var metrics = await StartMetricsAsync(driver);
        var before = await ScrapeAsync(metrics);
        string? volume = null;
        try
        {
            volume = await CreateAsync(driver, "pvc-node");
            await driver.CallAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = Directory.CreateDirectory(staging).FullName,
                VolumeCapability = ControllerFixture.Mount("ext4"),
            });
            await driver.CallAsync<NodePublishVolumeResponse>("Node", "NodePublishVolume", new NodePublishVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = staging, TargetPath = target, VolumeCapability = ControllerFixture.Mount("ext4"),
            });
            var group = (await driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
                new CreateVolumeGroupSnapshotRequest { Name = "group-metrics", SourceVolumeIds = { volume } })).GroupSnapshot;
            var scrape = await ScrapeUntilAsync(metrics, s => s.Has("loopvol_journal_checkpoint_duration_seconds_count"));

            Assert.Multiple(() =>
            {
                Assert.That(scrape.LoopvolFamilies.ToDictionary(n => n, n => scrape.Families[n]),
                    Is.EquivalentTo(Deploy.MetricsDoc.Load().Types), "exactly the metrics of docs/metrics.md, of the types it gives");
                Assert.That(scrape.Sum("loopvol_node_staged_volumes"), Is.EqualTo(1));
                Assert.That(scrape.Sum("loopvol_node_publications"), Is.EqualTo(1));
                Assert.That(scrape.Sum("loopvol_node_loop_devices"), Is.EqualTo(1));
                Assert.That(Moved(before, scrape, "loopvol_node_freeze_duration_seconds_count"), Is.EqualTo(1), "one freeze");
                Assert.That(scrape.Sum("loopvol_node_freeze_duration_seconds_sum"), Is.GreaterThan(0));
                Assert.That(Moved(before, scrape, "loopvol_node_thaw_failures_total"), Is.Zero);
                Assert.That(scrape.Sum("loopvol_pool_images", "kind=volume"), Is.EqualTo(1));
                Assert.That(scrape.Sum("loopvol_pool_images", "kind=snapshot"), Is.EqualTo(1), "the group's member");
                Assert.That(scrape.Sum("loopvol_journal_records", "kind=group", "state=created"), Is.EqualTo(1));
                Assert.That(scrape.Sum("loopvol_pool_copy_mode", "mode=reflink"), Is.EqualTo(1), "XFS with reflink=1");
                Assert.That(scrape.Sum("loopvol_pool_copy_mode", "mode=copy"), Is.Zero);
                Assert.That(scrape.Sum("loopvol_pool_provisioned_bytes"), Is.EqualTo(64 * MiB));
                Assert.That(scrape.Sum("loopvol_pool_available_bytes"), Is.EqualTo(driver.Driver.Pool.AvailableBytes()));
                Assert.That(scrape.Sum("loopvol_pool_overcommit_ratio"), Is.EqualTo(driver.Settings.OvercommitRatio));
                Assert.That(scrape.Sum("loopvol_pool_used_bytes"), Is.GreaterThan(0).And.LessThan(scrape.Sum("loopvol_pool_size_bytes")));
                Assert.That(scrape.Sum("loopvol_journal_wal_size_bytes"), Is.GreaterThanOrEqualTo(0));
            });
            await PromtoolAcceptsAsync(kubelet, scrape);

            await driver.CallAsync<DeleteVolumeGroupSnapshotResponse>("GroupController", "DeleteVolumeGroupSnapshot",
                new DeleteVolumeGroupSnapshotRequest { GroupSnapshotId = group.GroupSnapshotId, SnapshotIds = { group.Snapshots.Select(s => s.SnapshotId) } });
            await driver.CallAsync<NodeUnpublishVolumeResponse>("Node", "NodeUnpublishVolume",
                new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });
            await driver.CallAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });
            var after = await ScrapeAsync(metrics);

            Assert.That(new[] { "loopvol_node_staged_volumes", "loopvol_node_publications", "loopvol_node_loop_devices" }
                .Select(n => after.Sum(n)), Is.All.Zero, "unstaged: nothing on the node");
        }
        finally
        {
            foreach (var path in new[] { target, staging }.Where(p => MountTable.At(p) is not null))
            {
                await Processes.RunExpectingFailureAsync("umount", [path]);
            }
            if (volume is not null)
            {
                await driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = volume });
            }
        }
        Assert.That(HostLeaks.Find().Where(l => l.Contains(kubelet.Path, StringComparison.Ordinal)), Is.Empty);
    }

    [Test]
    public async Task ScrapedWhileCallsRun_CallsAndJournalCommits_MoveByExactlyWhatHappened()
    {
        const int pairs = 24;
        await using var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = Path.Combine(MountPoint, $"data-{Guid.NewGuid():N}") });
        await using var metrics = await StartMetricsAsync(driver);
        var before = await ScrapeAsync(metrics);
        var commitsBefore = driver.Driver.Journal.CommitCounts;
        using var stop = new CancellationTokenSource();
        var during = new List<Exposition>();
        var scraping = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                during.Add(await ScrapeAsync(metrics));
            }
        });

        var volumes = await Task.WhenAll(Enumerable.Range(0, pairs).Select(i => CreateAsync(driver, $"pvc-{i}", 16 * MiB)));
        var created = await ScrapeAsync(metrics);
        await Task.WhenAll(volumes.Select(v => driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume",
            new DeleteVolumeRequest { VolumeId = v })));
        var invalid = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<DeleteVolumeResponse>("Controller",
            "DeleteVolume", new DeleteVolumeRequest()));
        var missing = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<ControllerExpandVolumeResponse>("Controller",
            "ControllerExpandVolume", new ControllerExpandVolumeRequest
            {
                VolumeId = volumes[0], CapacityRange = new CapacityRange { RequiredBytes = 128 * MiB },
            }));
        await driver.Driver.Pool.DrainDeletesAsync();
        await stop.CancelAsync();
        await scraping;
        var after = await ScrapeAsync(metrics);
        var commits = driver.Driver.Journal.CommitCounts;

        Assert.That(invalid!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(missing!.StatusCode, Is.EqualTo(StatusCode.NotFound));
        Assert.That(during, Is.Not.Empty, "scraped while the calls ran");
        Assert.Multiple(() =>
        {
            const string call = "loopvol_csi_call_duration_seconds_count";
            Assert.That(Moved(before, after, call, "method=/csi.v1.Controller/CreateVolume", "grpc_status_code=OK"), Is.EqualTo(pairs));
            Assert.That(Moved(before, after, call, "method=/csi.v1.Controller/DeleteVolume", "grpc_status_code=OK"), Is.EqualTo(pairs));
            Assert.That(Moved(before, after, call, "method=/csi.v1.Controller/DeleteVolume", "grpc_status_code=InvalidArgument"), Is.EqualTo(1));
            Assert.That(Moved(before, after, call, "method=/csi.v1.Controller/ControllerExpandVolume", "grpc_status_code=NotFound"), Is.EqualTo(1));
            Assert.That(Moved(before, after, "loopvol_csi_call_duration_seconds_bucket", "method=/csi.v1.Controller/CreateVolume",
                "grpc_status_code=OK", "le=+Inf"), Is.EqualTo(pairs), "the +Inf bucket holds every call");
            Assert.That(Moved(before, after, "loopvol_csi_call_duration_seconds_sum", "method=/csi.v1.Controller/CreateVolume"), Is.GreaterThan(0));
            Assert.That(after.Sum("loopvol_csi_calls_in_flight"), Is.Zero, "nothing in flight once every call answered");
            Assert.That(during.Select(s => s.Sum("loopvol_csi_calls_in_flight")), Is.All.InRange(0, 2 * pairs + 1));
            Assert.That(during.Select(s => s.Sum(call)), Is.Ordered, "a counter never goes back");

            Assert.That(Moved(before, after, "loopvol_journal_commit_duration_seconds_count"), Is.EqualTo(commits.Commits - commitsBefore.Commits));
            Assert.That(Moved(before, after, "loopvol_journal_commit_batch_size_count"), Is.EqualTo(commits.Commits - commitsBefore.Commits));
            Assert.That(Moved(before, after, "loopvol_journal_commit_batch_size_sum"), Is.EqualTo(commits.Writes - commitsBefore.Writes),
                "the batch sizes add up to every write committed");
            Assert.That(Moved(before, after, "loopvol_fsyncs_total", "target=journal"), Is.EqualTo(commits.Syncs - commitsBefore.Syncs));

            Assert.That(created.Sum("loopvol_pool_images", "kind=volume"), Is.EqualTo(pairs));
            Assert.That(created.Sum("loopvol_journal_records", "kind=volume", "state=created"), Is.EqualTo(pairs));
            Assert.That(created.Sum("loopvol_pool_provisioned_bytes"), Is.EqualTo(pairs * 16 * MiB));
            Assert.That(after.Sum("loopvol_journal_records"), Is.Zero, "every record gone after the deletes");
            Assert.That(after.Sum("loopvol_pool_provisioned_bytes"), Is.Zero);
        });
    }

    private static async Task<MetricsServer> StartMetricsAsync(InProcessDriver driver)
    {
        var server = MetricsServer.Create(MetricsAddress.Parse("127.0.0.1:0"), NullLoggerFactory.Instance, driver.Driver.CreateGauges());
        await server.StartAsync();
        return server;
    }

    private static async Task<Exposition> ScrapeAsync(MetricsServer metrics) => new(await Scrapes.GetAsync(metrics.Url));

    /// <summary>Scrapes until <paramref name="done"/> holds (a background checkpoint runs once the journal is idle).</summary>
    private static async Task<Exposition> ScrapeUntilAsync(MetricsServer metrics, Func<Exposition, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var scrape = await ScrapeAsync(metrics);
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }
            await Task.Delay(100);
        }
    }

    private static double Moved(Exposition before, Exposition after, string name, params string[] labels) =>
        after.Sum(name, labels) - before.Sum(name, labels);

    private static async Task<string> CreateAsync(InProcessDriver driver, string name, long bytes = 64 * MiB) =>
        (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = bytes },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;

    private static async Task PromtoolAcceptsAsync(TempDirectory dir, Exposition scrape)
    {
        var file = dir.Combine("scrape.txt");
        await File.WriteAllTextAsync(file, scrape.Text);
        Assert.That(await Processes.RunAsync("sh", ["-c", "promtool check metrics < \"$0\"", file]), Is.Empty,
            "promtool check metrics finds nothing to complain about");
    }
}
