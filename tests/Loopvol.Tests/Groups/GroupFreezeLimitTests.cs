using Grpc.Core;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Groups;

/// <summary>
/// A group snapshot whose freeze limit passes before every member is copied: the copy of the first member is
/// slowed (fault injection, the one thing a test cannot time otherwise) past a tiny MaxFreeze. The group is refused
/// (ABORTED: it was undone entirely and may be retried), nothing of it is left, the file systems are writable, and
/// the same request to a driver with the normal limit succeeds. A failure inside the limit's timer must not end the
/// process. Pools on XFS (reflinks) and ext4 (real copies, where this is likeliest).
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class GroupFreezeLimitTests(string fsType) : OnLoopFileSystem(fsType)
{
    private const long MiB = 1 << 20;

    [TestCase(false, TestName = "{m}")]
    [TestCase(true, TestName = "{m}(and the timer's thaw fails)")]
    public async Task FreezeLimitPassesMidGroup_GroupIsAborted_NothingIsLeft_FileSystemsThawed_RetrySucceeds(bool timerFails)
    {
        using var kubelet = new TempDirectory();
        var data = Path.Combine(MountPoint, $"data-{Guid.NewGuid():N}");
        var faults = new SlowFirstCopy(TimeSpan.FromMilliseconds(1500), timerFails);
        var staging = Enumerable.Range(0, 3).Select(i => kubelet.Combine($"s{i}")).ToList();
        var volumes = new List<string>();
        try
        {
            await using (var driver = await InProcessDriver.StartAsync(s => s with
                         {
                             DataDirectory = data, MaxFreeze = TimeSpan.FromMilliseconds(200), Faults = faults,
                         }))
            {
                for (var i = 0; i < staging.Count; i++)
                {
                    volumes.Add(await StageNewVolumeAsync(driver, staging[i]));
                    await File.WriteAllTextAsync(Path.Combine(staging[i], "before"), $"volume {i}");
                }

                var error = Assert.ThrowsAsync<RpcException>(() => CreateGroupAsync(driver, volumes));

                Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.Aborted), error.Status.Detail);
                Assert.That(error.Status.Detail, Does.Contain("thawed").And.Contain("retried"));
                Assert.That(faults.Delayed, Is.True, "the limit passed during the slowed copy");
                Assert.That(driver.Driver.Journal.All(ObjectKind.Snapshot), Is.Empty, "no member survives");
                Assert.That(driver.Driver.Journal.All(ObjectKind.Group), Is.Empty, "the name is free again");
                Assert.That(Directory.GetFiles(driver.Settings.PoolDirectory, "snap-*"), Is.Empty, "no member image");
                Assert.That(Directory.GetFiles(Path.Combine(driver.Settings.PoolDirectory, ".incoming")), Is.Empty);
                foreach (var path in staging)
                {
                    var write = Task.Run(() => File.WriteAllText(Path.Combine(path, "after"), "thawed"));
                    Assert.That(await Task.WhenAny(write, Task.Delay(5000)), Is.SameAs(write), $"{path} must be thawed");
                }
            }

            await using (var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = data }))
            {
                var group = await CreateGroupAsync(driver, volumes);

                Assert.That(group.Snapshots.Select(s => s.SourceVolumeId), Is.EquivalentTo(volumes));
                foreach (var (volume, path) in volumes.Zip(staging))
                {
                    await driver.CallAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
                        new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = path });
                }
            }
        }
        finally
        {
            foreach (var path in staging.Where(p => Loopvol.NodeHost.Mounts.MountTable.At(p) is not null))
            {
                await Processes.RunExpectingFailureAsync("umount", [path]);
            }
        }
        Assert.That(HostLeaks.Find().Where(l => l.Contains(kubelet.Path, StringComparison.Ordinal)), Is.Empty);
    }

    private static async Task<string> StageNewVolumeAsync(InProcessDriver driver, string staging)
    {
        var volume = (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = $"pvc-{Guid.NewGuid():N}",
            CapacityRange = new CapacityRange { RequiredBytes = 64 * MiB },
            VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;
        await driver.CallAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
        {
            VolumeId = volume,
            StagingTargetPath = Directory.CreateDirectory(staging).FullName,
            VolumeCapability = ControllerFixture.Mount("ext4"),
        });
        return volume;
    }

    private static async Task<VolumeGroupSnapshot> CreateGroupAsync(InProcessDriver driver, IReadOnlyList<string> volumes) =>
        (await driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { volumes } })).GroupSnapshot;

    /// <summary>Slows the first member's copy past the freeze limit; optionally makes the limit's thaw fail.</summary>
    private sealed class SlowFirstCopy(TimeSpan delay, bool timerFails) : IFaultInjector
    {
        private int _copies;

        public bool Delayed { get; private set; }

        public void Reached(string point)
        {
            if (point == "create-group.member-copied" && Interlocked.Increment(ref _copies) == 1)
            {
                Thread.Sleep(delay);
                Delayed = true;
            }
            if (point == "quiesce.expired" && timerFails)
            {
                throw new InvalidOperationException("the thaw after the freeze limit failed (injected)");
            }
        }
    }
}
