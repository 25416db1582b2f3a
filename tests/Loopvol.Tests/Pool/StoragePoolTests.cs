using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class StoragePoolTests(string fsType) : PoolOnFileSystem(fsType)
{
    private const int MiB = 1 << 20;

    [Test]
    public void Reflink_IsUsedOnXfs_AndFallsBackOnExt4() =>
        Assert.That(Pool.Images.SupportsReflink, Is.EqualTo(FsType == "xfs"));

    [Test]
    public async Task CreateVolume_IsASparseImageOfTheRoundedSize()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 100L * MiB + 1 }, default);

        Assert.That(volume.CapacityBytes, Is.EqualTo(100L * MiB + 4096));
        Assert.That(new FileInfo(ImagePath(volume.Id)).Length, Is.EqualTo(volume.CapacityBytes));
        Assert.That(Allocated(ImagePath(volume.Id)), Is.LessThan(MiB), "a new image allocates nothing");
        Assert.That(Directory.EnumerateFiles(Path.Combine(PoolDirectory, ".incoming")), Is.Empty);
    }

    [Test]
    public async Task CreateVolume_SameNameSameArguments_SameVolume_OtherSize_AlreadyExists()
    {
        var request = new VolumeRequest { Name = "pvc-1", RequiredBytes = 10 * MiB };

        var first = await Pool.CreateVolumeAsync(request, default);
        var again = await Pool.CreateVolumeAsync(request, default);

        Assert.That(again.Id, Is.EqualTo(first.Id));
        Assert.ThrowsAsync<AlreadyExistsException>(() => Pool.CreateVolumeAsync(request with { RequiredBytes = 20 * MiB }, default));
    }

    [TestCase(10 * MiB, 5 * MiB)]
    [TestCase(1000L, 2000L)]
    public async Task CreateVolume_ImpossibleCapacityRange_IsOutOfRange(long required, long limit) =>
        Assert.ThrowsAsync<OutOfRangeException>(() =>
            Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = required, LimitBytes = limit }, default));

    [Test]
    public async Task CreateVolume_NoRange_GetsTheDefaultSize() =>
        Assert.That((await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1" }, default)).CapacityBytes, Is.EqualTo(1L << 30));

    [Test]
    public async Task CreateVolume_BeyondTheOvercommitLimit_IsResourceExhausted_AndLeavesNothing()
    {
        var error = Assert.ThrowsAsync<ResourceExhaustedException>(() =>
            Pool.CreateVolumeAsync(new VolumeRequest { Name = "huge", RequiredBytes = 64L << 30 }, default));

        Assert.That(error!.Message, Does.Contain("available"));
        Assert.That(Pool.Journal.All(), Is.Empty);
        Assert.That(Directory.EnumerateFiles(PoolDirectory), Is.Empty);
    }

    [Test]
    public async Task Overcommit_AtRatioOne_ProvisionedCapacityIsCounted_AtRatioFourMoreFits()
    {
        // The file system is 2 GiB: two 1 GiB volumes cannot both be promised at ratio 1 (metadata takes some).
        await Pool.CreateVolumeAsync(new VolumeRequest { Name = "a", RequiredBytes = 1L << 30 }, default);
        Assert.ThrowsAsync<ResourceExhaustedException>(() =>
            Pool.CreateVolumeAsync(new VolumeRequest { Name = "b", RequiredBytes = 1L << 30 }, default));

        Pool.Journal.Dispose();
        Pool = NewPool(new PoolOptions { OvercommitRatio = 4 });
        await Pool.CreateVolumeAsync(new VolumeRequest { Name = "a", RequiredBytes = 1L << 30 }, default);
        Assert.DoesNotThrowAsync(() => Pool.CreateVolumeAsync(new VolumeRequest { Name = "b", RequiredBytes = 1L << 30 }, default));
    }

    [Test]
    public async Task SnapshotAndRestore_RestoredVolumeHoldsTheDataAtSnapshotTime()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 64 * MiB }, default);
        Write(volume.Id, 0, Pattern(MiB, 1));
        Write(volume.Id, 40 * MiB, Pattern(MiB, 2));
        var original = Checksum(volume.Id);

        var snapshot = await Pool.CreateSnapshotAsync("snap-1", volume.Id, default);
        Write(volume.Id, 0, Pattern(MiB, 3));
        var restored = await Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "restored",
            RequiredBytes = 64 * MiB,
            Source = new ContentSource(snapshot.Id),
        }, default);

        Assert.That(Checksum(snapshot.Id), Is.EqualTo(original));
        Assert.That(Checksum(restored.Id), Is.EqualTo(original));
        Assert.That(Checksum(volume.Id), Is.Not.EqualTo(original));
        Assert.That(snapshot.SizeBytes, Is.EqualTo(64 * MiB));
        Assert.That(File.GetUnixFileMode(ImagePath(snapshot.Id)), Is.EqualTo(UnixFileMode.UserRead));
    }

    [Test]
    public async Task CloneOfAVolume_HoldsItsCurrentData_AndKeepsHolesSparse()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 512L * MiB }, default);
        Write(volume.Id, 100 * MiB, Pattern(2 * (int)MiB, 7));

        var clone = await Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "clone",
            RequiredBytes = 512L * MiB,
            Source = new ContentSource(volume.Id),
        }, default);

        Assert.That(Checksum(clone.Id), Is.EqualTo(Checksum(volume.Id)));
        Assert.That(Allocated(ImagePath(clone.Id)), Is.LessThan(16 * MiB), "holes stay holes in a copy");
    }

    [Test]
    public async Task CloneLargerThanItsSource_IsGrown_SmallerLimitThanSource_IsOutOfRange()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 32 * MiB }, default);

        var bigger = await Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "bigger", RequiredBytes = 64 * MiB, Source = new ContentSource(volume.Id),
        }, default);

        Assert.That(new FileInfo(ImagePath(bigger.Id)).Length, Is.EqualTo(64 * MiB));
        Assert.ThrowsAsync<OutOfRangeException>(() => Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "smaller", LimitBytes = 16 * MiB, Source = new ContentSource(volume.Id),
        }, default));
    }

    [Test]
    public void CreateVolume_FromAMissingSource_IsNotFound_AndReservesNothing()
    {
        Assert.ThrowsAsync<NotFoundException>(() => Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "x", Source = new ContentSource(ObjectId.New(ObjectKind.Snapshot)),
        }, default));

        Assert.That(Pool.Journal.All(), Is.Empty);
    }

    [Test]
    public async Task DeleteVolume_KeepsItsSnapshots_RepeatsAndUnknownsAreFine()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        Write(volume.Id, 0, Pattern(4096, 9));
        var snapshot = await Pool.CreateSnapshotAsync("snap", volume.Id, default);
        var expected = Checksum(snapshot.Id);

        await Pool.DeleteVolumeAsync(volume.Id, CancellationToken.None);
        await Pool.DeleteVolumeAsync(volume.Id, CancellationToken.None);
        await Pool.DeleteVolumeAsync(ObjectId.New(ObjectKind.Volume), CancellationToken.None);

        Assert.That(File.Exists(ImagePath(volume.Id)), Is.False);
        Assert.That(Checksum(snapshot.Id), Is.EqualTo(expected));
        Assert.That(Pool.GetSnapshot(snapshot.Id), Is.Not.Null);
    }

    [Test]
    public async Task DeleteVolume_AttachedToALoopDevice_IsFailedPrecondition()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        var device = (await Processes.RunAsync("losetup", ["--find", "--show", ImagePath(volume.Id)])).Trim();
        try
        {
            var error = Assert.ThrowsAsync<PreconditionFailedException>(() => Pool.DeleteVolumeAsync(volume.Id, CancellationToken.None));
            Assert.That(error!.Message, Does.Contain(device));
            Assert.That(File.Exists(ImagePath(volume.Id)), Is.True);
        }
        finally
        {
            await Processes.RunAsync("losetup", ["-d", device]);
        }
        await Pool.DeleteVolumeAsync(volume.Id, CancellationToken.None);
        Assert.That(Pool.GetVolume(volume.Id), Is.Null);
    }

    [Test]
    public async Task DeleteSnapshot_OfAGroupMember_IsFailedPrecondition()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        var snapshot = await Pool.CreateSnapshotAsync("member", volume.Id, default);
        var group = await Pool.Journal.ReserveAsync(ObjectKind.Group, "g", new DefiningArguments());
        await Pool.Journal.AddMembersAsync(group.Id, new Dictionary<string, string> { [volume.Id.ToString()] = snapshot.Id.ToString() });

        Assert.ThrowsAsync<PreconditionFailedException>(() => Pool.DeleteSnapshotAsync(snapshot.Id, CancellationToken.None));
    }

    [Test]
    public async Task ExpandVolume_Grows_NeverShrinks_Repeats()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);

        Assert.That(await Pool.ExpandVolumeAsync(volume.Id, 16 * MiB, 0, CancellationToken.None), Is.EqualTo(16 * MiB));
        Assert.That(await Pool.ExpandVolumeAsync(volume.Id, 16 * MiB, 0, CancellationToken.None), Is.EqualTo(16 * MiB));
        Assert.That(await Pool.ExpandVolumeAsync(volume.Id, 4 * MiB, 0, CancellationToken.None), Is.EqualTo(16 * MiB));
        Assert.That(new FileInfo(ImagePath(volume.Id)).Length, Is.EqualTo(16 * MiB));
        Assert.That(Pool.ConditionOf(Pool.Journal.Get(volume.Id)!), Is.EqualTo(Condition.Healthy));
    }

    [Test]
    public async Task Condition_MissingOrResizedImage_IsAbnormal()
    {
        var a = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "a", RequiredBytes = 8 * MiB }, default);
        var b = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "b", RequiredBytes = 8 * MiB }, default);
        File.Delete(ImagePath(a.Id));
        File.OpenHandle(ImagePath(b.Id), FileMode.Open, FileAccess.Write).Dispose();
        using (var stream = new FileStream(ImagePath(b.Id), FileMode.Open))
        {
            stream.SetLength(4 * MiB);
        }

        Assert.That(Pool.ConditionOf(Pool.Journal.Get(a.Id)!).Abnormal, Is.True);
        Assert.That(Pool.ConditionOf(Pool.Journal.Get(b.Id)!).Message, Does.Contain("journal says"));
    }

    [Test]
    public async Task ListSnapshots_FiltersBySourceVolume()
    {
        var a = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "a", RequiredBytes = 8 * MiB }, default);
        var b = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "b", RequiredBytes = 8 * MiB }, default);
        var sa = await Pool.CreateSnapshotAsync("sa", a.Id, default);
        await Pool.CreateSnapshotAsync("sb", b.Id, default);

        var page = Pool.ListSnapshots(null, 0, new ListFilter { SourceVolume = a.Id.ToString() });

        Assert.That(page.Items.Select(r => r.Id), Is.EqualTo(new[] { sa.Id }));
    }
}
