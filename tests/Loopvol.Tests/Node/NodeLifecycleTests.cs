using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.Mounts;

namespace Loopvol.Tests.Node;

public sealed class NodeLifecycleTests : NodeFixture
{
    private const int CapSysResource = 24;

    [TestCase("ext4")]
    [TestCase("xfs")]
    public async Task MountVolume_StagePublishWriteUnpublishUnstage_LeavesNothingAndKeepsTheData(string fs)
    {
        var capability = Mount(fs);
        var volume = await CreateVolumeAsync(capability);

        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());
        await File.WriteAllTextAsync(Path.Combine(Target(), "hello.txt"), "kept");
        var staged = MountTable.At(Staging())!;

        Assert.That(staged.FsType, Is.EqualTo(fs));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume)!.State, Is.EqualTo(NodeState.InUse));
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
        Assert.That(Directory.Exists(Target()), Is.False, "the target path is removed");
        Assert.That(MountTable.At(Staging()), Is.Null);
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume), Is.Null);

        await StageAsync(volume, capability);
        Assert.That(await File.ReadAllTextAsync(Path.Combine(Staging(), "hello.txt")), Is.EqualTo("kept"),
            "a second stage mounts the same file system, never a fresh one");
        await UnstageAsync(volume);
    }

    [Test]
    public async Task BlockVolume_StagePublishWriteThroughTheDevice_UnpublishUnstage()
    {
        var capability = Block();
        var volume = await CreateVolumeAsync(capability);

        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());
        var data = new byte[4096];
        Random.Shared.NextBytes(data);
        await using (var device = new FileStream(Target(), FileMode.Open, FileAccess.ReadWrite))
        {
            await device.WriteAsync(data);
            device.Flush(flushToDisk: true);
        }

        Assert.That(new FileInfo(Target()).Exists, Is.True);
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
        Assert.That(File.Exists(Target()), Is.False);
        var image = Path.Combine(Driver.Settings.PoolDirectory, volume + ".img");
        var written = new byte[4096];
        await using (var file = File.OpenRead(image))
        {
            await file.ReadExactlyAsync(written);
        }
        Assert.That(written, Is.EqualTo(data), "what the pod wrote is in the image");
    }

    [Test]
    public async Task ReadOnlyPublish_WriteFailsWithEROFS_AndTheOtherTargetStaysWritable()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);

        await PublishAsync(volume, capability, Target("ro"), readOnly: true);
        await PublishAsync(volume, capability, Target("rw"));

        var error = Assert.Throws<IOException>(() => File.WriteAllText(Path.Combine(Target("ro"), "x"), "x"));
        Assert.That(error!.HResult & 0xFFFF, Is.EqualTo(30), "EROFS");
        Assert.DoesNotThrow(() => File.WriteAllText(Path.Combine(Target("rw"), "x"), "x"));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume)!.ReferenceCount, Is.EqualTo(2));

        var unstage = Assert.ThrowsAsync<RpcException>(() => UnstageAsync(volume));
        Assert.That(unstage!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition), "unstage while published");
        await UnpublishAsync(volume, Target("ro"));
        Assert.That(Driver.Driver.Journal.GetNodeVolume(volume)!.ReferenceCount, Is.EqualTo(1));
        Assert.That(File.ReadAllText(Path.Combine(Target("rw"), "x")), Is.EqualTo("x"), "the other pod keeps its mount");
        await UnpublishAsync(volume, Target("rw"));
        await UnstageAsync(volume);
    }

    [Test]
    public async Task Repeats_AreIdempotent_OtherArgumentsAreAlreadyExists()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);

        await StageAsync(volume, capability);
        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());
        await PublishAsync(volume, capability, Target());
        var stageXfs = Assert.ThrowsAsync<RpcException>(() => StageAsync(volume, Mount("xfs")));
        var publishRo = Assert.ThrowsAsync<RpcException>(() => PublishAsync(volume, capability, Target(), readOnly: true));

        Assert.That(stageXfs!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(publishRo!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(MountTable.Read().Count(e => e.MountPoint == Target()), Is.EqualTo(1), "no stacked mounts");
        await UnpublishAsync(volume, Target());
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
        await UnstageAsync(volume);
    }

    [Test]
    public async Task Stage_DeviceHoldingAnotherFileSystem_IsFailedPrecondition_NeverReformatted()
    {
        var volume = await CreateVolumeAsync(Mount("xfs"), 320 * MiB);
        await StageAsync(volume, Mount("xfs"));
        await File.WriteAllTextAsync(Path.Combine(Staging(), "data"), "precious");
        await UnstageAsync(volume);

        var error = Assert.ThrowsAsync<RpcException>(() => StageAsync(volume, Mount("ext4"), Staging("other")));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.FailedPrecondition));
        Assert.That(error.Status.Detail, Does.Contain("holds xfs"));
        await StageAsync(volume, Mount("xfs"));
        Assert.That(await File.ReadAllTextAsync(Path.Combine(Staging(), "data")), Is.EqualTo("precious"));
        await UnstageAsync(volume);
    }

    [TestCase("ext4")]
    [TestCase("xfs")]
    public async Task Expand_MountedVolume_GrowsTheFileSystemOnline(string fs)
    {
        var capability = Mount(fs);
        var volume = await CreateVolumeAsync(capability, 320 * MiB);
        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());
        var before = new DriveInfo(Target()).TotalSize;

        await Controller<ControllerExpandVolumeResponse>("ControllerExpandVolume", new ControllerExpandVolumeRequest
        {
            VolumeId = volume, CapacityRange = new CapacityRange { RequiredBytes = 1024 * MiB },
        });
        if (fs == "ext4" && !Support.Privileged.HasCapability(CapSysResource))
        {
            // ext4's online resize needs CAP_SYS_RESOURCE, which some sandboxes drop (this one does); a privileged
            // pod has it. Without it, the failure must come back clearly, and the volume must stay usable.
            var refused = Assert.ThrowsAsync<RpcException>(() => Node<NodeExpandVolumeResponse>("NodeExpandVolume",
                new NodeExpandVolumeRequest { VolumeId = volume, VolumePath = Target() }));
            Assert.That(refused!.Status.Detail, Does.Contain("resize2fs").And.Contain("Permission denied"));
            Assert.DoesNotThrow(() => File.WriteAllText(Path.Combine(Target(), "still-writable"), "yes"));
            await UnpublishAsync(volume, Target());
            await UnstageAsync(volume);
            return;
        }
        var expanded = await Node<NodeExpandVolumeResponse>("NodeExpandVolume",
            new NodeExpandVolumeRequest { VolumeId = volume, VolumePath = Target() });
        var stats = await Node<NodeGetVolumeStatsResponse>("NodeGetVolumeStats",
            new NodeGetVolumeStatsRequest { VolumeId = volume, VolumePath = Target() });

        Assert.That(expanded.CapacityBytes, Is.EqualTo(1024 * MiB));
        Assert.That(stats.Usage.Single(u => u.Unit == VolumeUsage.Types.Unit.Bytes).Total,
            Is.GreaterThan(before + 512 * MiB), "the mounted file system itself grew");
        Assert.That(stats.VolumeCondition.Abnormal, Is.False);
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
    }

    [Test]
    public async Task Stats_ReportAbnormalWhenTheMountIsGoneBehindOurBack()
    {
        var capability = Mount("ext4");
        var volume = await CreateVolumeAsync(capability);
        await StageAsync(volume, capability);
        await PublishAsync(volume, capability, Target());

        Mounter.Unmount(Target());
        var stats = await Node<NodeGetVolumeStatsResponse>("NodeGetVolumeStats",
            new NodeGetVolumeStatsRequest { VolumeId = volume, VolumePath = Target() });

        Assert.That(stats.VolumeCondition.Abnormal, Is.True);
        Assert.That(stats.VolumeCondition.Message, Does.Contain("no longer mounted"));
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
    }

    [Test]
    public async Task VolumeMountGroup_GivesTheGroupTheStagedRoot()
    {
        var capability = Mount("ext4");
        capability.Mount.VolumeMountGroup = "4321";
        var volume = await CreateVolumeAsync(Mount("ext4"));

        await StageAsync(volume, capability);
        var owner = (await Support.Processes.RunAsync("stat", ["-c", "%g %A", Staging()])).Trim();

        Assert.That(owner, Does.StartWith("4321 ").And.Contain("rws"), "group 4321, group-writable with set-group-ID");
        await UnstageAsync(volume);
    }

    [Test]
    public void NodeGetInfo_ReportsTheNodeTopologyAndLimit()
    {
        var info = Node<NodeGetInfoResponse>("NodeGetInfo", new NodeGetInfoRequest()).GetAwaiter().GetResult();

        Assert.That(info.NodeId, Is.EqualTo("node-1"));
        Assert.That(info.AccessibleTopology.Segments["topology.loopvol.csi.dev/node"], Is.EqualTo("node-1"));
        Assert.That(info.MaxVolumesPerNode, Is.Zero);
    }

    [TestCase("relative/path")]
    [TestCase("/a/../b")]
    [TestCase("/a//b")]
    [TestCase("/a/b/")]
    public async Task Stage_UncleanPath_IsInvalidArgument(string path)
    {
        var volume = await CreateVolumeAsync(Mount("ext4"));

        var error = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
            new NodeStageVolumeRequest { VolumeId = volume, StagingTargetPath = path, VolumeCapability = Mount("ext4") }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("staging_target_path"));
    }

    [Test]
    public void Stage_MalformedVolumeId_IsInvalidArgument_BeforeAnyPathIsBuilt()
    {
        var error = Assert.ThrowsAsync<RpcException>(() => Node<NodeStageVolumeResponse>("NodeStageVolume",
            new NodeStageVolumeRequest { VolumeId = "../../etc/passwd", StagingTargetPath = Staging(), VolumeCapability = Mount("ext4") }));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("volume_id"));
    }
}
