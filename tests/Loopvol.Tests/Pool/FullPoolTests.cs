using System.Diagnostics;
using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.Mounts;
using Loopvol.Pool;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>
/// The real driver on a pool whose file system is full to the last block, with its data directory (and so its
/// journal) on that file system, as deployed, or elsewhere (<c>--pool-dir</c>): it starts and is ready, kubelet can
/// unpublish and unstage, volumes and snapshots can be deleted; creates answer RESOURCE_EXHAUSTED and leave no
/// image, no half-written file and no record; once space is freed the same creates succeed.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class FullPoolTests(string fsType)
{
    private const long MiB = 1 << 20;

    [OneTimeTearDown]
    public void NothingLeftBehind() => HostLeaks.AssertNone();

    [TestCase(false, TestName = "{m}(journal on the full file system)")]
    [TestCase(true, TestName = "{m}(only the pool on it)")]
    public async Task FullPool_StartsAndServesDeletesAndTeardown_CreatesAreExhausted_AndSucceedAfterSpaceIsFreed(
        bool poolAlone)
    {
        using var fs = await LoopFileSystem.CreateAsync(fsType, 512 * MiB);
        using var kubelet = new KubeletDirectory();
        var data = poolAlone ? kubelet.Combine("data") : Path.Combine(fs.MountPoint, "data");
        var pool = Path.Combine(fs.MountPoint, "pool");
        string[] args = ["--pool-dir", pool];
        var staging = kubelet.Combine("staging");
        var target = kubelet.Combine("pods", "target");
        string volume = "", spare = "", snapshot = "";
        await WithDriverAsync(data, args, async c =>
        {
            volume = (await CreateVolume(c, "pvc-used")).Volume.VolumeId;
            spare = (await CreateVolume(c, "pvc-spare")).Volume.VolumeId;
            Directory.CreateDirectory(staging);
            await Node<NodeStageVolumeResponse>(c, "NodeStageVolume", new NodeStageVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = staging, VolumeCapability = ControllerFixture.Mount("ext4"),
            });
            await Node<NodePublishVolumeResponse>(c, "NodePublishVolume", new NodePublishVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = staging, TargetPath = target,
                VolumeCapability = ControllerFixture.Mount("ext4"),
            });
            // A pod's data, so that copies of the volume need real space where they are not reflinks.
            var bytes = new byte[8 * MiB];
            Random.Shared.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(target, "data"), bytes);
            await Processes.RunAsync("sync", ["-f", Path.Combine(target, "data")]);
            snapshot = (await CreateSnapshot(c, "snap-old", volume)).Snapshot.SnapshotId;
        });

        var filler = await Filler.FillAsync(fs.MountPoint);
        try
        {
            await WithDriverAsync(data, args, async c =>
            {
                var probe = await c.UnaryAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());
                Assert.That(probe.Ready, Is.True, "a full pool is still ready: it must serve deletes");

                var codes = new Dictionary<string, StatusCode>
                {
                    ["CreateVolume"] = await CodeOf(() => CreateVolume(c, "pvc-new")),
                    ["clone"] = await CodeOf(() => CreateVolume(c, "pvc-clone", new VolumeContentSource
                    {
                        Volume = new() { VolumeId = volume },
                    })),
                    ["restore"] = await CodeOf(() => CreateVolume(c, "pvc-restore", new VolumeContentSource
                    {
                        Snapshot = new() { SnapshotId = snapshot },
                    })),
                    ["CreateSnapshot"] = await CodeOf(() => CreateSnapshot(c, "snap-new", volume)),
                };
                Assert.That(codes, Is.EquivalentTo(codes.ToDictionary(p => p.Key, _ => StatusCode.ResourceExhausted)),
                    $"free bytes: {filler.FreeBytes}");
                AssertOnly(data, pool, [volume, spare, snapshot]);

                await Node<NodeUnpublishVolumeResponse>(c, "NodeUnpublishVolume",
                    new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = target });
                await Node<NodeUnstageVolumeResponse>(c, "NodeUnstageVolume",
                    new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });
                Assert.That(MountTable.At(staging), Is.Null);
                await Controller<DeleteVolumeResponse>(c, "DeleteVolume", new DeleteVolumeRequest { VolumeId = spare });
                await Controller<DeleteSnapshotResponse>(c, "DeleteSnapshot", new DeleteSnapshotRequest { SnapshotId = snapshot });
                AssertOnly(data, pool, [volume]);
            });
        }
        finally
        {
            filler.Dispose();
        }

        await WithDriverAsync(data, args, async c =>
        {
            var made = new[]
            {
                (await CreateVolume(c, "pvc-new")).Volume.VolumeId,
                (await CreateVolume(c, "pvc-clone", new VolumeContentSource { Volume = new() { VolumeId = volume } })).Volume.VolumeId,
                (await CreateSnapshot(c, "snap-new", volume)).Snapshot.SnapshotId,
            };
            AssertOnly(data, pool, [volume, .. made]);
        });
    }

    /// <summary>Staging and target directories; whatever a failed test left mounted there is unmounted.</summary>
    private sealed class KubeletDirectory : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public string Combine(params string[] parts) => _dir.Combine(parts);

        public void Dispose()
        {
            var left = HostLeaks.Find().Where(l => l.Contains(_dir.Path, StringComparison.Ordinal)).ToList();
            foreach (var mount in left.Where(l => l.StartsWith("mount ", StringComparison.Ordinal)).Reverse())
            {
                Processes.RunExpectingFailureAsync("umount", [mount["mount ".Length..]]).GetAwaiter().GetResult();
            }
            _dir.Dispose();
        }
    }

    /// <summary>
    /// Exactly these objects, each a created record with its image, and nothing half made. The records of answered
    /// deletes go just after the answer (the pool's sweeper, docs/durability.md): they are waited for, 10 s at most.
    /// </summary>
    private static void AssertOnly(string data, string pool, IReadOnlyCollection<string> ids)
    {
        var layout = new PoolLayout(pool);
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        for (var wait = Stopwatch.StartNew(); journal.All().Any(r => r.State == ReservationState.Deleting) &&
                                              wait.Elapsed < TimeSpan.FromSeconds(10);)
        {
            Thread.Sleep(10);
        }
        Assert.That(journal.All().Select(r => r.Id.ToString()), Is.EquivalentTo(ids), "one record per object, none faulty");
        Assert.That(new PoolInventory(layout).BackendNames(), Is.EquivalentTo(ids), "one image per object");
        Assert.That(Directory.GetFiles(layout.IncomingDirectory), Is.Empty, "no half-written image");
        Assert.That(JournalAudit.Check(journal, new PoolInventory(layout), DateTimeOffset.UtcNow, TimeSpan.Zero), Is.Empty);
    }

    private static async Task WithDriverAsync(string data, string[] args, Func<CsiClient, Task> body)
    {
        await using var driver = await DriverProcess.StartAsync(data, args);
        using var client = new CsiClient(driver.Endpoint);
        await body(client);
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
    }

    private static async Task<StatusCode> CodeOf(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            TestContext.Out.WriteLine($"{e.StatusCode}: {e.Status.Detail}");
            return e.StatusCode;
        }
    }

    private static Task<CreateVolumeResponse> CreateVolume(CsiClient c, string name, VolumeContentSource? source = null) =>
        Controller<CreateVolumeResponse>(c, "CreateVolume", new CreateVolumeRequest
        {
            Name = name,
            CapacityRange = new CapacityRange { RequiredBytes = 64 * MiB },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
            VolumeContentSource = source,
        });

    private static Task<CreateSnapshotResponse> CreateSnapshot(CsiClient c, string name, string volume) =>
        Controller<CreateSnapshotResponse>(c, "CreateSnapshot", new CreateSnapshotRequest { Name = name, SourceVolumeId = volume });

    private static Task<T> Controller<T>(CsiClient c, string method, Google.Protobuf.IMessage request)
        where T : class, Google.Protobuf.IMessage<T>, new() => c.UnaryAsync<T>("Controller", method, request);

    private static Task<T> Node<T>(CsiClient c, string method, Google.Protobuf.IMessage request)
        where T : class, Google.Protobuf.IMessage<T>, new() => c.UnaryAsync<T>("Node", method, request);
}
