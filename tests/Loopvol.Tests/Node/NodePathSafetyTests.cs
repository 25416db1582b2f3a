using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.NodeHost.Mounts;
using Loopvol.NodeHost.Paths;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// The node acts only on paths the journal recorded for the volume in question, and only on mounts that are that
/// volume's: what an adversarial client sends (unknown volumes, another volume's paths, the driver's own
/// directories, mount flags the kernel refuses) changes nothing that is not the volume's own.
/// </summary>
public sealed class NodePathSafetyTests : NodeFixture
{
    [Test]
    public async Task UnpublishOfAnUnknownVolume_IsNotFound_AndLeavesAForeignMountAndAFileAlone()
    {
        var foreign = Directory.CreateDirectory(Kubelet.Combine("foreign")).FullName;
        await Processes.RunAsync("mount", ["-t", "tmpfs", "foreign", foreign]);
        try
        {
            var file = Kubelet.Combine("precious.img");
            await File.WriteAllTextAsync(file, "data");
            var never = $"vol-{Guid.NewGuid()}";

            foreach (var path in new[] { foreign, file, Driver.Settings.PoolDirectory + "/.incoming" })
            {
                var error = Assert.ThrowsAsync<RpcException>(() => UnpublishAsync(never, path));
                Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.NotFound), path);
                Assert.That(error.Status.Detail, Does.Contain("volume_id"));
            }
            var unstage = Assert.ThrowsAsync<RpcException>(() => Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
                new NodeUnstageVolumeRequest { VolumeId = never, StagingTargetPath = foreign }));
            Assert.That(unstage!.StatusCode, Is.EqualTo(StatusCode.NotFound));

            Assert.That(MountTable.At(foreign)?.FsType, Is.EqualTo("tmpfs"), "the foreign mount stays");
            Assert.That(await File.ReadAllTextAsync(file), Is.EqualTo("data"), "the file stays");
            Assert.That(Directory.Exists(Driver.Settings.PoolDirectory + "/.incoming"), Is.True);
        }
        finally
        {
            await Processes.RunAsync("umount", [foreign]);
        }
    }

    [TestCase("vol-3f2b4c1d-0000-4000-8000-000000000000", StatusCode.NotFound)]
    [TestCase("not-ours", StatusCode.InvalidArgument)]
    public void StageAndPublishOfAVolumeNeverIssued_AreRefused_AfterEveryOtherFieldIsChecked(string id, StatusCode code)
    {
        var capability = Mount("ext4");
        var stage = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
            new NodeStageVolumeRequest { VolumeId = id, StagingTargetPath = Staging(), VolumeCapability = capability }));
        var publish = Assert.ThrowsAsync<RpcException>(() => PublishAsync(id, capability, Target()));
        var noPath = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
            new NodeStageVolumeRequest { VolumeId = id, VolumeCapability = capability }));

        Assert.That(stage!.StatusCode, Is.EqualTo(code), "an ID of ours that names nothing is NOT_FOUND; a malformed one INVALID_ARGUMENT");
        Assert.That(publish!.StatusCode, Is.EqualTo(code));
        Assert.That(stage.Status.Detail, Does.Contain("volume_id"));
        Assert.That(noPath!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(Directory.Exists(Staging()), Is.False, "nothing was made for a volume that does not exist");
    }

    [Test]
    public async Task UnpublishAndUnstageOfAnotherVolumesPaths_ChangeNothing()
    {
        var capability = Mount("ext4");
        var a = await CreateVolumeAsync(capability);
        var b = await CreateVolumeAsync(capability);
        await StageAsync(a, capability);
        await PublishAsync(a, capability, Target());
        await File.WriteAllTextAsync(Path.Combine(Target(), "a.txt"), "a");

        await UnpublishAsync(b, Target());
        await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = b, StagingTargetPath = Staging() });
        await Node<NodeUnstageVolumeResponse>("NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = a, StagingTargetPath = Staging("elsewhere") });

        Assert.That(await File.ReadAllTextAsync(Path.Combine(Target(), "a.txt")), Is.EqualTo("a"), "A is still published");
        Assert.That(MountTable.At(Staging()), Is.Not.Null, "A is still staged");
        Assert.That(Driver.Driver.Journal.GetNodeVolume(a)!.ReferenceCount, Is.EqualTo(1));
        await UnpublishAsync(a, Target());
        await UnstageAsync(a);
    }

    [Test]
    public async Task PathsInTheDriversOwnDirectories_AreInvalidArguments_NamingTheField()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        var data = Driver.Settings.DataDirectory;
        var pool = Driver.Settings.PoolDirectory;

        foreach (var path in new[] { pool, data, $"{pool}/x", $"{data}/staging", Path.GetDirectoryName(data)!, "/" })
        {
            var stage = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
                new NodeStageVolumeRequest { VolumeId = volume, StagingTargetPath = path, VolumeCapability = capability }));
            Assert.That(stage!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), path);
            Assert.That(stage.Status.Detail, Does.Contain("staging_target_path"));
        }
        await StageAsync(volume, capability);
        foreach (var path in new[] { pool, $"{pool}/.incoming", $"{data}/t" })
        {
            var publish = Assert.ThrowsAsync<RpcException>(() => PublishAsync(volume, capability, path));
            Assert.That(publish!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument), path);
            Assert.That(publish.Status.Detail, Does.Contain("target_path"));
        }
        Assert.That(MountTable.Read().Where(e => e.MountPoint.StartsWith(data, StringComparison.Ordinal)), Is.Empty);
        Assert.That(Directory.Exists($"{data}/t"), Is.False, "nothing was created there");
        await UnstageAsync(volume);
    }

    [Test]
    public async Task ABindMountOfThePool_IsRefusedByIdentity()
    {
        var alias = Directory.CreateDirectory(Kubelet.Combine("alias")).FullName;
        await Processes.RunAsync("mount", ["--bind", Driver.Settings.PoolDirectory, alias]);
        try
        {
            var capability = Mount("ext4");
            var volume = await CreateVolumeAsync(capability);
            var error = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
                new NodeStageVolumeRequest { VolumeId = volume, StagingTargetPath = alias + "/inner", VolumeCapability = capability }));
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            Assert.That(error.Status.Detail, Does.Contain("driver's own directory"));
        }
        finally
        {
            await Processes.RunAsync("umount", [alias]);
        }
    }

    [Test]
    public async Task TwoVolumesAtOneStagingPath_TheSecondIsRefused_AndPublishNeverBindsAnEmptyDirectory()
    {
        var capability = Mount("ext4");
        var a = await CreateVolumeAsync(capability);
        var b = await CreateVolumeAsync(capability);
        await StageAsync(a, capability);

        var second = Assert.ThrowsAsync<RpcException>(() => StageAsync(b, capability));
        var inside = Assert.ThrowsAsync<RpcException>(() => StageAsync(b, capability, Path.Combine(Staging(), "nested")));
        var publishB = Assert.ThrowsAsync<RpcException>(() => PublishAsync(b, capability, Target()));
        var publishOverStaging = Assert.ThrowsAsync<RpcException>(() => PublishAsync(a, capability, Staging()));

        Assert.That(second!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(second.Status.Detail, Does.Contain(a));
        Assert.That(inside!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(publishB!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), "B is not staged");
        Assert.That(publishOverStaging!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(MountTable.Read().Count(e => e.MountPoint == Staging()), Is.EqualTo(1), "nothing stacked");
        Assert.That(MountTable.At(Target()), Is.Null);
        await UnstageAsync(a);
    }

    [Test]
    public async Task ATargetInsideOrAroundAnotherTargetOfTheSameVolume_IsRefused_SoEveryPublicationCanBeUndone()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());

        var inside = Assert.ThrowsAsync<RpcException>(() => PublishAsync(volume, capability, Path.Combine(Target(), "file")));
        var around = Assert.ThrowsAsync<RpcException>(() => PublishAsync(volume, capability, Path.GetDirectoryName(Target())!));

        Assert.That(inside!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(inside.Status.Detail, Does.Contain("target_path").And.Contain(Target()));
        Assert.That(around!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume)!.Publications, Has.Count.EqualTo(1), "nothing recorded");
        Assert.That(MountTable.Read().Count(e => PathGuard.IsWithin(e.MountPoint, Target())), Is.EqualTo(1), "nothing mounted inside");
        await PublishAsync(volume, capability, Target()); // the same target again is still the idempotent repeat
        await PublishAsync(volume, capability, Target("second"));
        await UnpublishAsync(volume, Target());
        await UnpublishAsync(volume, Target("second"));
        await UnstageAsync(volume);
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume), Is.Null);
    }

    [Test]
    public async Task AForeignMountAtTheTarget_IsRefused_AndUnpublishLeavesAMountPutOnTopAlone()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);
        var occupied = Directory.CreateDirectory(Target("occupied")).FullName;
        await Processes.RunAsync("mount", ["-t", "tmpfs", "foreign", occupied]);
        try
        {
            var error = Assert.ThrowsAsync<RpcException>(() => PublishAsync(volume, capability, occupied));
            Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(Driver.Driver.Journal.GetNodeVolume(volume)!.ReferenceCount, Is.Zero, "nothing recorded");
        }
        finally
        {
            await Processes.RunAsync("umount", [occupied]);
        }

        await PublishAsync(volume, capability, Target());
        await Processes.RunAsync("mount", ["-t", "tmpfs", "on-top", Target()]);
        try
        {
            var refused = Assert.ThrowsAsync<RpcException>(() => UnpublishAsync(volume, Target()));
            Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
            Assert.That(MountTable.At(Target())!.FsType, Is.EqualTo("tmpfs"), "the mount on top is not ours to remove");
        }
        finally
        {
            await Processes.RunAsync("umount", [Target()]);
        }
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
        Assert.That(Directory.Exists(Target()), Is.False);
    }

    [TestCase("ext4", "bogus_option", "bogus_option")]
    [TestCase("xfs", "data=journal", "data=journal")]
    [TestCase("ext4", "commit=soon", "commit=soon")]
    [TestCase("ext4", "noatime,bogus", "bogus")]
    [TestCase("ext4", "", "''")]
    public async Task MountFlagsTheFileSystemDoesNotTake_AreInvalidArguments_NamingTheFlag(string fs, string flag, string named)
    {
        var capability = Mount(fs);
        var volume = await CreateVolumeAsync(capability);
        var bad = capability.Clone();
        bad.Mount.MountFlags.Add(flag);

        var error = Assert.ThrowsAsync<RpcException>(() => StageAsync(volume, bad));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain(named).And.Contain("mount_flags"));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume), Is.Null, "nothing was attached");
    }

    [Test]
    public async Task AFlagValueTheKernelRefuses_IsInvalidArgument_AndLeavesNothingAttached()
    {
        var capability = Mount("xfs");
        var volume = await CreateVolumeAsync(capability, 320 * MiB);
        var bad = capability.Clone();
        bad.Mount.MountFlags.Add("logbufs=1"); // Well formed, but xfs takes 2 to 8 log buffers.

        var error = Assert.ThrowsAsync<RpcException>(() => StageAsync(volume, bad));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("logbufs=1"));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume), Is.Null);
        Assert.That(MountTable.At(Staging()), Is.Null);
        await StageAsync(volume, capability);
        await UnstageAsync(volume);
    }

    [Test]
    public async Task BlockVolume_AfterAReboot_UnstageRemovesTheDeviceFileItLeft()
    {
        var capability = Block();
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);
        var exposed = Path.Combine(Staging(), volume);
        var device = MountTable.At(exposed)!;

        // A reboot: the kernel forgets every mount and loop device; the files stay.
        await Processes.RunAsync("umount", [exposed]);
        await Processes.RunAsync("losetup", ["-d", "/dev/" + device.Root.TrimStart('/')]);
        await RestartAsync();

        Assert.That(File.Exists(exposed), Is.False, "start-up reconciliation removes the empty device file");
        await UnstageAsync(volume);
        Assert.That(Directory.Exists(Staging()), Is.True, "the staging directory itself is the CO's");
    }
}
