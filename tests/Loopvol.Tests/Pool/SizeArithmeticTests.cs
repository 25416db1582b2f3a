using Loopvol.Core.Errors;
using Loopvol.Pool;
using Loopvol.Pool.Model;

namespace Loopvol.Tests.Pool;

/// <summary>
/// The pool's size arithmetic with an over-commit ratio so large that every product passes a 64-bit byte count:
/// the capacity it reports, and the provisioned total after the largest volume there can be, stay exact.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class SizeArithmeticTests(string fsType) : PoolOnFileSystem(fsType)
{
    [Test]
    public async Task HugeOvercommit_CapacityIsCapped_AndTheLargestVolumeLeavesNoRoomToOverflow()
    {
        Pool.Journal.Dispose();
        Pool = NewPool(new PoolOptions { OvercommitRatio = 1e300 });

        Assert.That(Pool.AvailableBytes(), Is.EqualTo(PoolOptions.MaxVolumeBytes));
        var request = new VolumeRequest { Name = "largest", RequiredBytes = PoolOptions.MaxVolumeBytes };
        if (FsType == "ext4")
        {
            // ext4 holds no file past 16 TiB: the file system's limit is a range error too, and leaves nothing.
            Assert.ThrowsAsync<OutOfRangeException>(() => Pool.CreateVolumeAsync(request, default));
            Assert.That(Pool.Journal.All(), Is.Empty);
            Assert.That(Directory.EnumerateFiles(PoolDirectory), Is.Empty);
            return;
        }
        var largest = await Pool.CreateVolumeAsync(request, default);

        Assert.That(largest.CapacityBytes, Is.EqualTo(PoolOptions.MaxVolumeBytes));
        Assert.That(new FileInfo(ImagePath(largest.Id)).Length, Is.EqualTo(PoolOptions.MaxVolumeBytes));
        Assert.That(Pool.Journal.ProvisionedBytes(), Is.EqualTo(PoolOptions.MaxVolumeBytes));
        Assert.That(Pool.AvailableBytes(), Is.Zero, "what is left is less than a block");
        Assert.ThrowsAsync<ResourceExhaustedException>(() =>
            Pool.CreateVolumeAsync(new VolumeRequest { Name = "one-more", RequiredBytes = 4096 }, default));
        Assert.ThrowsAsync<OutOfRangeException>(() => Pool.ExpandVolumeAsync(largest.Id, long.MaxValue, 0, CancellationToken.None));
        Assert.That(await Pool.ExpandVolumeAsync(largest.Id, PoolOptions.MaxVolumeBytes, 0, CancellationToken.None), Is.EqualTo(PoolOptions.MaxVolumeBytes));
    }

    [Test]
    public async Task ExpandRecordedAheadOfItsImage_IsFinishedByTheRetry()
    {
        // What an interrupted expand of an older driver left: the record grown, the image not.
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * 1024 * 1024 }, default);
        await Pool.Journal.UpdateSizeAsync(volume.Id, 32 * 1024 * 1024);

        Assert.That(await Pool.ExpandVolumeAsync(volume.Id, 32 * 1024 * 1024, 0, CancellationToken.None), Is.EqualTo(32 * 1024 * 1024));

        Assert.That(new FileInfo(ImagePath(volume.Id)).Length, Is.EqualTo(32 * 1024 * 1024));
        Assert.That(Pool.ConditionOf(Pool.Journal.Get(volume.Id)!), Is.EqualTo(Condition.Healthy));
    }
}
