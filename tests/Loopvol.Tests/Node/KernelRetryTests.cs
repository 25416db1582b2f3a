using System.Diagnostics;
using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.Loop;
using Loopvol.NodeHost.Mounts;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// The node's retries of transient kernel contention, shown acting on real loop devices and real mounts: a loop
/// device taken by another process between LOOP_CTL_GET_FREE and LOOP_CONFIGURE, and an unmount refused while a
/// process is still inside the mount. Past the bound the same error as before the retries surfaces.
/// </summary>
public sealed class KernelRetryTests
{
    private const string LoopRetryLog = "loop device taken by another process";
    private const string UnmountRetryLog = "unmount refused as busy";

    [Test]
    public async Task Stage_DeviceTakenBetweenGetFreeAndConfigure_AttachesAnotherDevice_AndLogsTheRetry()
    {
        var taker = new DeviceTaker(times: 1);
        using var world = new NodeHostWorld(taker);
        taker.Decoy = Decoy(world);
        try
        {
            var volume = await world.CreateVolumeAsync();

            await world.StageAsync(volume);

            var device = world.DeviceOf(volume);
            Assert.That(taker.Taken, Has.Count.EqualTo(1), "the fault point was reached and the device taken");
            Assert.That(device, Is.Not.Null.And.Not.EqualTo(taker.Taken[0]), "staged on another device");
            Assert.That(LoopDevices.BackingFile(taker.Taken[0]), Is.EqualTo(taker.Decoy), "the other process keeps its device");
            Assert.That(LoopDevices.BackingFile(device!), Is.EqualTo(world.Node.ImageOf(volume)));
            Assert.That(MountTable.At(world.Staging)?.Source, Is.EqualTo(device));
            Assert.That(world.Lines(LoopRetryLog), Has.Count.EqualTo(1));
            Assert.That(world.Lines(LoopRetryLog)[0], Does.Contain($"LOOP_CONFIGURE on {taker.Taken[0]} for"));

            await world.Node.UnstageAsync(volume, world.Staging, default);
            Assert.That(LoopDevices.BackingFile(device!), Is.Null, "unstage detached the volume's device");
        }
        finally
        {
            taker.Release();
        }
    }

    [Test]
    public async Task Stage_DeviceTakenEveryTime_FailsAfterTheBound_WithTheConfigureError_AndLeavesTheVolumeUnstaged()
    {
        var taker = new DeviceTaker(times: int.MaxValue);
        using var world = new NodeHostWorld(taker);
        taker.Decoy = Decoy(world);
        try
        {
            var volume = await world.CreateVolumeAsync();

            var error = Assert.ThrowsAsync<CommandFailedException>(() => world.StageAsync(volume));

            Assert.That(error!.Command, Is.EqualTo(LoopDevices.ConfigureCall));
            Assert.That(error.ExitCode, Is.EqualTo(Errno.EBUSY));
            Assert.That(taker.Taken, Has.Count.EqualTo(NodeHost.Resilience.KernelRetry.LoopAttachRetries + 1), "one attempt and every retry");
            Assert.That(world.Lines(LoopRetryLog), Has.Count.EqualTo(NodeHost.Resilience.KernelRetry.LoopAttachRetries));
            Assert.That(world.Journal.GetNodeVolume(volume.ToString())?.StageState ?? NodeState.Init, Is.EqualTo(NodeState.Init));
            Assert.That(LoopDevices.Holding(world.Node.ImageOf(volume)), Is.Null, "no device holds the volume");
            Assert.That(MountTable.At(world.Staging), Is.Null);
        }
        finally
        {
            taker.Release();
        }
    }

    [Test]
    public async Task Unpublish_ProcessStillLeavingTheMount_SucceedsOnceItHasLeft()
    {
        using var world = new NodeHostWorld();
        var volume = await world.CreateVolumeAsync();
        await world.StageAsync(volume);
        await world.PublishAsync(volume);
        using var sitter = NodeHostWorld.SitIn(world.Target);
        var clock = Stopwatch.StartNew();
        try
        {
            using (new Timer(_ => NodeHostWorld.End(sitter), null, 300, Timeout.Infinite))
            {
                await world.Node.UnpublishAsync(volume, world.Target, default);
            }
        }
        finally
        {
            NodeHostWorld.End(sitter);
        }

        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "it waited for the process");
        Assert.That(MountTable.At(world.Target), Is.Null);
        Assert.That(world.Journal.GetNodeVolume(volume.ToString())!.Publications, Is.Empty);
        Assert.That(world.Lines(UnmountRetryLog), Is.Not.Empty.And.Count.LessThanOrEqualTo(NodeHost.Resilience.KernelRetry.UnmountRetries));
    }

    [Test]
    public async Task Unstage_FileStillOpenInTheStagingMount_SucceedsOnceItIsClosed()
    {
        using var world = new NodeHostWorld();
        var volume = await world.CreateVolumeAsync();
        await world.StageAsync(volume);
        var device = world.DeviceOf(volume)!;
        using var open = File.Open(Path.Combine(world.Staging, "held"), FileMode.Create);
        using (new Timer(_ => open.Dispose(), null, 300, Timeout.Infinite))
        {
            await world.Node.UnstageAsync(volume, world.Staging, default);
        }

        Assert.That(MountTable.At(world.Staging), Is.Null);
        Assert.That(LoopDevices.BackingFile(device), Is.Null, "the device was detached");
        Assert.That(world.Journal.GetNodeVolume(volume.ToString())?.StageState ?? NodeState.Init, Is.EqualTo(NodeState.Init));
        Assert.That(world.Lines(UnmountRetryLog), Is.Not.Empty);
    }

    [Test]
    public async Task Unpublish_ProcessNeverLeaves_FailsAfterTheBound_AsBefore_AndChangesNothing()
    {
        using var world = new NodeHostWorld();
        var volume = await world.CreateVolumeAsync();
        await world.StageAsync(volume);
        await world.PublishAsync(volume);
        using var sitter = NodeHostWorld.SitIn(world.Target);
        try
        {
            var clock = Stopwatch.StartNew();

            var error = Assert.ThrowsAsync<CommandFailedException>(() => world.Node.UnpublishAsync(volume, world.Target, default));

            Assert.That(error!.Command, Is.EqualTo("umount2"));
            Assert.That(error.ExitCode, Is.EqualTo(Errno.EBUSY));
            Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(1400)), "50+100+200+400+800 ms of backoff");
            Assert.That(world.Lines(UnmountRetryLog), Has.Count.EqualTo(NodeHost.Resilience.KernelRetry.UnmountRetries));
            Assert.That(MountTable.At(world.Target), Is.Not.Null, "still mounted for the process inside");
            Assert.That(world.Journal.GetNodeVolume(volume.ToString())!.Publications, Has.Count.EqualTo(1), "still recorded");
        }
        finally
        {
            NodeHostWorld.End(sitter);
        }
        await world.Node.UnpublishAsync(volume, world.Target, default); // The kubelet's retry, once the pod is gone.
        Assert.That(MountTable.At(world.Target), Is.Null);
    }

    [Test]
    public async Task Unpublish_CancelledWhileWaitingForTheMount_StopsWaiting()
    {
        using var world = new NodeHostWorld();
        var volume = await world.CreateVolumeAsync();
        await world.StageAsync(volume);
        await world.PublishAsync(volume);
        using var sitter = NodeHostWorld.SitIn(world.Target);
        try
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            var clock = Stopwatch.StartNew();

            Assert.That(() => world.Node.UnpublishAsync(volume, world.Target, cancel.Token), Throws.InstanceOf<OperationCanceledException>());

            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromMilliseconds(1000)), "well before the retries ran out");
            Assert.That(world.Journal.GetNodeVolume(volume.ToString())!.Publications, Has.Count.EqualTo(1));
        }
        finally
        {
            NodeHostWorld.End(sitter);
        }
    }

    private static string Decoy(NodeHostWorld world)
    {
        var decoy = world.FilePath("loopvol-decoy.img");
        using (var file = File.Create(decoy))
        {
            file.SetLength(1 << 20);
        }
        return decoy;
    }

    /// <summary>
    /// Another process taking the device the driver was just offered: at <c>attach.got-free</c> (the device open,
    /// not yet configured) it finds that device among this process's open files and binds a decoy file to it
    /// with losetup, the first <paramref name="times"/> times.
    /// </summary>
    private sealed class DeviceTaker(int times) : IFaultInjector
    {
        public string Decoy { get; set; } = "";

        public List<string> Taken { get; } = [];

        public void Reached(string point)
        {
            if (point != "attach.got-free" || Taken.Count >= times)
            {
                return;
            }
            var offered = Directory.EnumerateFileSystemEntries("/proc/self/fd")
                .Select(fd => new FileInfo(fd).LinkTarget)
                .Where(t => t is not null && System.Text.RegularExpressions.Regex.IsMatch(t, @"^/dev/loop\d+$"))
                .Distinct()
                .Where(d => LoopDevices.BackingFile(d!) is null)
                .ToList();
            Assert.That(offered, Has.Count.EqualTo(1), "exactly one unconfigured loop device is open here");
            Processes.Run("losetup", offered[0]!, Decoy);
            Taken.Add(offered[0]!);
        }

        public void Release()
        {
            foreach (var device in Taken)
            {
                Processes.Run("losetup", "-d", device);
            }
        }
    }
}
