using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>
/// Thick and thin volumes on real file systems: what the image holds on the file system (st_blocks), what the pool
/// admits, and that no data ever changes.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class ProvisioningPoolTests(string fsType) : PoolOnFileSystem(fsType)
{
    private const long MiB = 1 << 20;

    private async Task<VolumeInfo> VolumeWithDataAsync(string name, long size = 64 * MiB)
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = name, RequiredBytes = size }, default);
        Write(volume.Id, 0, Pattern((int)(4 * MiB), 1));
        Write(volume.Id, 32 * MiB, Pattern((int)(2 * MiB), 2));
        return volume;
    }

    [Test]
    public async Task Thick_ReservesEveryBlock_CountsOutsideTheOvercommit_AndKeepsTheData()
    {
        var volume = await VolumeWithDataAsync("pvc-1");
        var before = Checksum(volume.Id);
        var available = Pool.AvailableBytes();

        var mode = await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);

        Assert.Multiple(() =>
        {
            Assert.That(mode, Is.EqualTo(Provisioning.Thick));
            Assert.That(Allocated(ImagePath(volume.Id)), Is.GreaterThanOrEqualTo(64 * MiB));
            Assert.That(Checksum(volume.Id), Is.EqualTo(before));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thick));
            Assert.That(Pool.Journal.ThickBytes(), Is.EqualTo(64 * MiB));
            Assert.That(Pool.AvailableBytes(), Is.LessThan(available), "the reserved blocks are no longer free");
        });
    }

    [Test]
    public async Task ThickThenThin_NotAttached_GivesBackWhatWasNeverWritten_AndKeepsTheData()
    {
        var volume = await VolumeWithDataAsync("pvc-1");
        var before = Checksum(volume.Id);
        var thin = Allocated(ImagePath(volume.Id));
        await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);

        var mode = await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thin, default);
        var again = await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thin, default);

        Assert.Multiple(() =>
        {
            Assert.That(mode, Is.EqualTo(Provisioning.Thin));
            Assert.That(again, Is.EqualTo(Provisioning.Thin));
            Assert.That(Allocated(ImagePath(volume.Id)), Is.LessThanOrEqualTo(thin + MiB));
            Assert.That(Checksum(volume.Id), Is.EqualTo(before));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thin));
            Assert.That(Pool.Journal.ThickBytes(), Is.Zero);
        });
    }

    [Test]
    public async Task Thin_WhileAttached_KeepsTheReservationUntilDetached_ThenTheStartReleasesIt()
    {
        var volume = await VolumeWithDataAsync("pvc-1");
        await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);
        var device = (await Processes.RunAsync("losetup", ["--find", "--show", ImagePath(volume.Id)])).Trim();
        long whileAttached;
        try
        {
            await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thin, default);
            whileAttached = Allocated(ImagePath(volume.Id));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.ThinPendingRelease));
            Assert.That(await Pool.ModifyVolumeAsync(volume.Id, null, default), Is.EqualTo(Provisioning.Thin));
        }
        finally
        {
            await Processes.RunAsync("losetup", ["-d", device]);
        }
        await Pool.ReleasePendingAsync();

        Assert.Multiple(() =>
        {
            Assert.That(whileAttached, Is.GreaterThanOrEqualTo(64 * MiB), "nothing punched under a loop device");
            Assert.That(Allocated(ImagePath(volume.Id)), Is.LessThan(16 * MiB));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thin));
        });
    }

    [Test]
    public async Task Thick_WithoutRoom_IsResourceExhausted_AndStaysThin()
    {
        Pool.Journal.Dispose();
        Pool = NewPool(new PoolOptions { OvercommitRatio = 4 });
        var free = FileSystemStats.Of(PoolDirectory).AvailableBytes;
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "big", RequiredBytes = (free + (256 * MiB)) / MiB * MiB }, default);
        var before = Allocated(ImagePath(volume.Id));

        Assert.ThrowsAsync<ResourceExhaustedException>(() => Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default));
        Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thin));
        Assert.That(Allocated(ImagePath(volume.Id)), Is.EqualTo(before));
    }

    [Test]
    public async Task Thick_CutShortAfterReserving_IsStillThin_AndTheStartGivesTheBlocksBack()
    {
        ClosePool();
        Pool = NewPool(new PoolOptions { Faults = new ThrowAt("modify-volume.reserved") });
        var volume = await VolumeWithDataAsync("pvc-1");
        var before = Checksum(volume.Id);
        var thin = Allocated(ImagePath(volume.Id));

        Assert.ThrowsAsync<InvalidOperationException>(() => Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default));
        var afterFailure = Pool.Journal.ProvisioningOf(volume.Id);
        await Pool.ReleasePendingAsync();

        Assert.Multiple(() =>
        {
            Assert.That(afterFailure, Is.Not.EqualTo(Provisioning.Thick));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thin));
            Assert.That(Pool.Journal.PendingReleases(), Is.Empty);
            Assert.That(Allocated(ImagePath(volume.Id)), Is.LessThanOrEqualTo(thin + MiB), "the reserved blocks given back");
            Assert.That(Checksum(volume.Id), Is.EqualTo(before));
        });
    }

    [Test]
    public async Task Thick_CutShortWhileAttached_IsGivenBackByTheStartAfterTheDetach()
    {
        ClosePool();
        Pool = NewPool(new PoolOptions { Faults = new ThrowAt("modify-volume.reserved") });
        var volume = await VolumeWithDataAsync("pvc-1");
        var thin = Allocated(ImagePath(volume.Id));
        var device = (await Processes.RunAsync("losetup", ["--find", "--show", ImagePath(volume.Id)])).Trim();
        Provisioning? whileAttached;
        try
        {
            Assert.ThrowsAsync<InvalidOperationException>(() => Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default));
            whileAttached = Pool.Journal.ProvisioningOf(volume.Id);
            Assert.That(await Pool.ModifyVolumeAsync(volume.Id, null, default), Is.EqualTo(Provisioning.Thin));
        }
        finally
        {
            await Processes.RunAsync("losetup", ["-d", device]);
        }
        await Pool.ReleasePendingAsync();

        Assert.Multiple(() =>
        {
            Assert.That(whileAttached, Is.EqualTo(Provisioning.ThinPendingRelease));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thin));
            Assert.That(Allocated(ImagePath(volume.Id)), Is.LessThanOrEqualTo(thin + MiB));
        });
    }

    [Test]
    public async Task Thick_Repeated_WithoutRoomToUnshare_StaysThick_AndIsNotRefused()
    {
        var volume = await VolumeWithDataAsync("pvc-1");
        await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);
        var before = Checksum(volume.Id);
        // On XFS the copy shares the image's blocks, so a repeat must unshare them and meets the full pool; on ext4 it
        // is a plain copy. Either way a repeat must not refuse a volume already thick.
        await Processes.RunAsync("cp", ["--reflink=auto", ImagePath(volume.Id), Path.Combine(MountPoint, "shared")]);
        var filler = Path.Combine(MountPoint, "filler");
        var fill = FileSystemStats.Of(MountPoint).AvailableBytes - (256 * 1024);
        await Processes.RunAsync("fallocate", ["-l", fill.ToString(System.Globalization.CultureInfo.InvariantCulture), filler]);

        var mode = await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);

        Assert.Multiple(() =>
        {
            Assert.That(mode, Is.EqualTo(Provisioning.Thick));
            Assert.That(Pool.Journal.ProvisioningOf(volume.Id), Is.EqualTo(Provisioning.Thick));
            Assert.That(Checksum(volume.Id), Is.EqualTo(before));
        });
        File.Delete(filler);
    }

    [Test]
    public async Task Expand_ThickVolume_ReservesTheNewBlocksToo()
    {
        var volume = await VolumeWithDataAsync("pvc-1", 32 * MiB);
        await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);

        await Pool.ExpandVolumeAsync(volume.Id, 96 * MiB, 0, default);

        Assert.That(Allocated(ImagePath(volume.Id)), Is.GreaterThanOrEqualTo(96 * MiB));
        Assert.That(Pool.Journal.ThickBytes(), Is.EqualTo(96 * MiB));
    }

    [Test]
    public async Task Snapshot_OfAThickVolume_LeavesTheVolumeOwningEveryBlock()
    {
        var volume = await VolumeWithDataAsync("pvc-1");
        await Pool.ModifyVolumeAsync(volume.Id, Provisioning.Thick, default);
        var before = Checksum(volume.Id);
        var free = FileSystemStats.Of(PoolDirectory).AvailableBytes;

        var snapshot = await Pool.CreateSnapshotAsync("snap-1", volume.Id, default);

        var used = free - FileSystemStats.Of(PoolDirectory).AvailableBytes;
        Assert.Multiple(() =>
        {
            // Reflink or copy, the snapshot's 6 MiB of data end up in blocks of their own: the volume shares none.
            Assert.That(used, Is.GreaterThanOrEqualTo(6 * MiB - (512 * 1024)));
            Assert.That(Checksum(volume.Id), Is.EqualTo(before));
            Assert.That(Checksum(snapshot.Id), Is.EqualTo(before));
            Assert.That(Allocated(ImagePath(volume.Id)), Is.GreaterThanOrEqualTo(64 * MiB));
        });
    }

    /// <summary>Throws at one fault point, as a crash there would end the call.</summary>
    private sealed class ThrowAt(string point) : IFaultInjector
    {
        public void Reached(string reached)
        {
            if (reached == point)
            {
                throw new InvalidOperationException($"injected at {point}");
            }
        }
    }
}
