using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.NodeHost.Mounts;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Groups;

/// <summary>
/// The real driver killed with SIGKILL at each step of CreateVolumeGroupSnapshot, some while file systems are
/// frozen. After a restart nothing is frozen, no partial group or member survives, and a retry returns a complete
/// group.
/// </summary>
public sealed class GroupCrashTests
{
    private static readonly string[] Points =
    [
        "create-group.reserved", "quiesce.frozen", "create-group.member-copied", "create-group.thawed",
        "mark-created.after-commit",
    ];

    [TestCaseSource(nameof(Points))]
    public async Task Create_KilledAt_RestartThawsAndDiscards_RetryMakesACompleteGroup(string point)
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var staging = new[] { dir.Combine("s0"), dir.Combine("s1") };
        var volumes = new List<string>();
        await WithDriverAsync(data, async c =>
        {
            for (var i = 0; i < 2; i++)
            {
                var volume = (await c.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume",
                    new CreateVolumeRequest
                    {
                        Name = $"pvc-{i}", CapacityRange = new() { RequiredBytes = 64L << 20 },
                        VolumeCapabilities = { ControllerFixture.Mount("ext4") },
                    })).Volume.VolumeId;
                Directory.CreateDirectory(staging[i]);
                await c.UnaryAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
                {
                    VolumeId = volume, StagingTargetPath = staging[i], VolumeCapability = ControllerFixture.Mount("ext4"),
                });
                volumes.Add(volume);
            }
        });
        try
        {
            await using (var crashing = await DriverProcess.StartAsync(data,
                             new Dictionary<string, string> { ["LOOPVOL_TEST_CRASH_AT"] = point }))
            {
                using var client = new CsiClient(crashing.Endpoint);
                Assert.ThrowsAsync<RpcException>(() => CreateGroup(client, volumes));
                Assert.That(await crashing.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(128 + 9), crashing.Output);
            }

            await WithDriverAsync(data, async c =>
            {
                foreach (var s in staging)
                {
                    var write = Task.Run(() => File.WriteAllText(Path.Combine(s, "after-restart"), "thawed"));
                    Assert.That(await Task.WhenAny(write, Task.Delay(5000)), Is.SameAs(write), $"{s} must not stay frozen");
                }
                var listed = await c.UnaryAsync<ListSnapshotsResponse>("Controller", "ListSnapshots",
                    new ListSnapshotsRequest());
                Assert.That(listed.Entries, Is.Empty, "no member of a half-made group survives");
                var group = await CreateGroup(c, volumes);
                var again = await CreateGroup(c, volumes);
                Assert.That(group.GroupSnapshot.Snapshots, Has.Count.EqualTo(2));
                Assert.That(again.GroupSnapshot.GroupSnapshotId, Is.EqualTo(group.GroupSnapshot.GroupSnapshotId));
                for (var i = 0; i < 2; i++)
                {
                    await c.UnaryAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
                        new NodeUnstageVolumeRequest { VolumeId = volumes[i], StagingTargetPath = staging[i] });
                }
            });
        }
        finally
        {
            foreach (var s in staging.Where(s => MountTable.At(s) is not null))
            {
                NodeHost.FileSystems.Freezer.Thaw(s);
                await Processes.RunExpectingFailureAsync("umount", ["-l", s]);
            }
        }
        Assert.That(HostLeaks.Find().Where(l => l.Contains(dir.Path, StringComparison.Ordinal)), Is.Empty);
    }

    private static Task<CreateVolumeGroupSnapshotResponse> CreateGroup(CsiClient c, IReadOnlyList<string> volumes) =>
        c.UnaryAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { volumes } });

    private static async Task WithDriverAsync(string data, Func<CsiClient, Task> body)
    {
        await using var driver = await DriverProcess.StartAsync(data);
        using var client = new CsiClient(driver.Endpoint);
        await body(client);
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
    }
}
