using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// The real driver killed with SIGKILL at each node step, a driver restarted under running pods, and a reboot
/// simulated by unmounting and detaching everything behind the driver's back. Every case ends with the volume
/// cleanly unpublished and unstaged, and nothing of ours left mounted or attached.
/// </summary>
public sealed class NodeCrashTests
{
    private static readonly string[] StagePoints =
        ["stage.attached", "stage.formatted", "stage.staged", "set-stage.after-commit"];

    private static readonly string[] PublishPoints =
        ["publish.recorded", "publish.mounted", "add-publication.after-commit"];

    private static readonly string[] TeardownPoints =
        ["unpublish.unmounted", "remove-publication.after-commit", "unstage.unmounted", "unstage.detached"];

    [TestCaseSource(nameof(StagePoints))]
    public async Task Stage_KilledAt_RetryStagesOnce(string point)
    {
        using var world = new World();
        var volume = await world.CreateAsync();

        await world.CrashAsync(point, c => world.Stage(c, volume));
        await world.WithDriverAsync(async c =>
        {
            await world.Stage(c, volume);
            await world.Stage(c, volume);
            Assert.That(MountTable.Read().Count(e => e.MountPoint == world.Staging), Is.EqualTo(1), "no stacked mounts");
            await world.Publish(c, volume);
            await world.TeardownAsync(c, volume);
        });
    }

    [TestCaseSource(nameof(PublishPoints))]
    public async Task Publish_KilledAt_RetryPublishesOnce(string point)
    {
        using var world = new World();
        var volume = await world.CreateAsync();
        await world.WithDriverAsync(c => world.Stage(c, volume));

        await world.CrashAsync(point, c => world.Publish(c, volume));
        await world.WithDriverAsync(async c =>
        {
            await world.Publish(c, volume);
            Assert.That(MountTable.Read().Count(e => e.MountPoint == world.Target), Is.EqualTo(1), "no stacked mounts");
            await world.TeardownAsync(c, volume);
        });
    }

    [TestCaseSource(nameof(TeardownPoints))]
    public async Task Teardown_KilledAt_RetryFinishesIt(string point)
    {
        using var world = new World();
        var volume = await world.CreateAsync();
        await world.WithDriverAsync(async c =>
        {
            await world.Stage(c, volume);
            await world.Publish(c, volume);
        });

        await world.CrashAsync(point, c => world.TeardownAsync(c, volume));
        await world.WithDriverAsync(c => world.TeardownAsync(c, volume));
    }

    [Test]
    public async Task Restart_WhilePodsUseTheVolume_LeavesMountsAlone_AndLaterTeardownWorks()
    {
        using var world = new World();
        var volume = await world.CreateAsync();
        await world.WithDriverAsync(async c =>
        {
            await world.Stage(c, volume);
            await world.Publish(c, volume);
        });
        await File.WriteAllTextAsync(Path.Combine(world.Target, "pod-data"), "written while the driver was down");

        await world.WithDriverAsync(async c =>
        {
            Assert.That(MountTable.At(world.Target), Is.Not.Null, "a restart never unmounts a pod's volume");
            await world.Publish(c, volume); // The kubelet may repeat a publish after a restart.
            await world.TeardownAsync(c, volume);
        });
    }

    [Test]
    public async Task SimulatedReboot_EverythingGoneBehindTheDriversBack_NextStageWorks()
    {
        using var world = new World();
        var volume = await world.CreateAsync();
        string device = "";
        await world.WithDriverAsync(async c =>
        {
            await world.Stage(c, volume);
            await world.Publish(c, volume);
            device = MountTable.At(world.Staging)!.Source;
        });

        Mounter.Unmount(world.Target);
        Mounter.Unmount(world.Staging);
        LoopDevices.Detach(device);

        await world.WithDriverAsync(async c =>
        {
            await world.Stage(c, volume);
            await world.Publish(c, volume);
            await world.TeardownAsync(c, volume);
        });
    }

    [Test]
    public async Task ConcurrentCallsOnOneVolume_OneRuns_TheOthersAreAborted()
    {
        using var world = new World();
        var volume = await world.CreateAsync();
        await world.WithDriverAsync(async c =>
        {
            var codes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                try
                {
                    await world.Stage(c, volume);
                    return StatusCode.OK;
                }
                catch (RpcException e)
                {
                    return e.StatusCode;
                }
            }));
            Assert.That(codes, Does.Contain(StatusCode.OK));
            Assert.That(codes.Distinct(), Is.SubsetOf(new[] { StatusCode.OK, StatusCode.Aborted }));
            await world.Stage(c, volume);
            await world.TeardownAsync(c, volume);
        });
    }

    /// <summary>One data directory and one kubelet directory, shared by the driver processes of a test.</summary>
    private sealed class World : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public World() => Privileged.Require();

        public string Data => _dir.Combine("data");

        public string Staging => _dir.Combine("staging");

        public string Target => _dir.Combine("pods", "target");

        public async Task<string> CreateAsync()
        {
            string id = "";
            await WithDriverAsync(async c => id = (await c.UnaryAsync<CreateVolumeResponse>(
                "Controller", "CreateVolume", new CreateVolumeRequest
                {
                    Name = "pvc-1",
                    CapacityRange = new CapacityRange { RequiredBytes = 64L << 20 },
                    VolumeCapabilities = { ControllerFixture.Mount("ext4") },
                })).Volume.VolumeId);
            return id;
        }

        public async Task WithDriverAsync(Func<CsiClient, Task> body)
        {
            await using var driver = await DriverProcess.StartAsync(Data);
            using var client = new CsiClient(driver.Endpoint);
            await body(client);
            driver.Signal(15);
            Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
        }

        public async Task CrashAsync(string point, Func<CsiClient, Task> call)
        {
            await using var driver = await DriverProcess.StartAsync(Data,
                new Dictionary<string, string> { ["LOOPVOL_TEST_CRASH_AT"] = point });
            using var client = new CsiClient(driver.Endpoint);
            Assert.ThrowsAsync<RpcException>(() => call(client), "the call must die with the driver");
            Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(128 + 9),
                $"the driver must have been killed at {point}:\n{driver.Output}");
        }

        public Task Stage(CsiClient c, string volume)
        {
            Directory.CreateDirectory(Staging);
            return c.UnaryAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = Staging, VolumeCapability = ControllerFixture.Mount("ext4"),
            });
        }

        public Task Publish(CsiClient c, string volume) =>
            c.UnaryAsync<NodePublishVolumeResponse>("Node", "NodePublishVolume", new NodePublishVolumeRequest
            {
                VolumeId = volume, StagingTargetPath = Staging, TargetPath = Target,
                VolumeCapability = ControllerFixture.Mount("ext4"),
            });

        /// <summary>Unpublish and unstage, then prove that nothing is left mounted or attached.</summary>
        public async Task TeardownAsync(CsiClient c, string volume)
        {
            await c.UnaryAsync<NodeUnpublishVolumeResponse>("Node", "NodeUnpublishVolume",
                new NodeUnpublishVolumeRequest { VolumeId = volume, TargetPath = Target });
            await c.UnaryAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = Staging });
            Assert.That(MountTable.At(Target), Is.Null);
            Assert.That(MountTable.At(Staging), Is.Null);
            Assert.That(LoopDevices.Holding(Path.Combine(Data, "pool", volume + ".img")), Is.Null, "the loop device is detached");
        }

        public void Dispose()
        {
            var left = HostLeaks.Find().Where(l => l.Contains(_dir.Path, StringComparison.Ordinal)).ToList();
            foreach (var mount in left.Where(l => l.StartsWith("mount ", StringComparison.Ordinal)).Reverse())
            {
                Processes.RunExpectingFailureAsync("umount", ["-l", mount["mount ".Length..]]).GetAwaiter().GetResult();
            }
            foreach (var (device, backing) in Loopvol.Core.Host.LoopBackingFiles.Read().Where(p => p.Value.StartsWith(_dir.Path, StringComparison.Ordinal)))
            {
                LoopDevices.Detach(device);
                left.Add($"{device} -> {backing}");
            }
            _dir.Dispose();
            Assert.That(left, Is.Empty, "the test left mounts or loop devices behind");
        }
    }
}
