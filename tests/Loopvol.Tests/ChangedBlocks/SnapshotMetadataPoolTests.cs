using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Pool.Extents;
using Loopvol.Pool.Model;
using Loopvol.Tests.Pool;

namespace Loopvol.Tests.ChangedBlocks;

/// <summary>
/// Allocated and changed blocks of snapshots in pools on real file systems: XFS with reflinks (deltas from extent
/// maps, no data read) and ext4 (full copies, deltas by comparing contents), checked against whole-image reads.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class SnapshotMetadataPoolTests(string fsType) : PoolOnFileSystem(fsType)
{
    private const long MiB = 1 << 20;

    [TestCase(1)]
    [TestCase(2)]
    public async Task Delta_AfterWritesOverwritesAndPunches_EqualsTheBlocksThatDiffer(int seed)
    {
        var (first, second, _) = await TwoSnapshotsAsync(seed);

        using var delta = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        var ranges = MetadataWorkload.ReadAll(delta, 1024);

        var expected = MetadataWorkload.DifferingBlocks(ImagePath(first.Id), ImagePath(second.Id), second.SizeBytes);
        Assert.That(expected, Is.Not.Empty);
        Assert.That(ranges, Is.EqualTo(expected));
        Assert.That(delta.CapacityBytes, Is.EqualTo(second.SizeBytes));
        if (FsType == "xfs")
        {
            Assert.That(delta.Method, Is.EqualTo(MetadataMethod.ExtentMaps));
            Assert.That(delta.BytesRead, Is.Zero, "a delta of reflinks reads no data");
        }
        else
        {
            Assert.That(delta.Method, Is.EqualTo(MetadataMethod.Contents));
            Assert.That(delta.BytesRead, Is.Positive.And.LessThanOrEqualTo(2 * second.SizeBytes));
        }
    }

    [Test]
    public async Task Delta_OfASnapshotWithItself_IsEmpty()
    {
        var (first, _, _) = await TwoSnapshotsAsync(3);

        using var delta = Pool.GetChangedBlocks(first.Id, first.Id, 0, default);

        Assert.That(MetadataWorkload.ReadAll(delta, 10), Is.Empty);
    }

    [TestCase(1)]
    [TestCase(2)]
    public async Task Allocated_EqualsSeekDataAndSeekHole(int seed)
    {
        var (first, second, _) = await TwoSnapshotsAsync(seed);

        foreach (var snapshot in new[] { first, second })
        {
            using var allocated = Pool.GetAllocatedBlocks(snapshot.Id, 0, default);
            var expected = MetadataWorkload.SeekData(ImagePath(snapshot.Id), snapshot.SizeBytes);
            Assert.That(expected, Is.Not.Empty);
            Assert.That(MetadataWorkload.ReadAll(allocated, 1000), Is.EqualTo(expected));
            Assert.That(allocated.BytesRead, Is.Zero);
        }
    }

    [TestCase(1)]
    [TestCase(3)]
    public async Task SmallPages_GiveTheSameRanges(int max)
    {
        var (first, second, _) = await TwoSnapshotsAsync(4);
        using var whole = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        var expected = MetadataWorkload.ReadAll(whole, int.MaxValue);

        using var paged = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        using var allocatedWhole = Pool.GetAllocatedBlocks(second.Id, 0, default);
        using var allocatedPaged = Pool.GetAllocatedBlocks(second.Id, 0, default);

        Assert.That(MetadataWorkload.ReadAll(paged, max), Is.EqualTo(expected));
        Assert.That(MetadataWorkload.ReadAll(allocatedPaged, max), Is.EqualTo(MetadataWorkload.ReadAll(allocatedWhole, 1024)));
    }

    [Test]
    public async Task StartingOffset_AtTheEndOfARangeReceived_ContinuesWithTheNext_InsideOne_StartsAtItsBlock()
    {
        var (first, second, _) = await TwoSnapshotsAsync(5);
        using var whole = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        var all = MetadataWorkload.ReadAll(whole, 1024);
        Assert.That(all, Has.Count.GreaterThan(4));
        var middle = all.Count / 2;

        using var resumed = Pool.GetChangedBlocks(first.Id, second.Id, all[middle].End, default);
        Assert.That(MetadataWorkload.ReadAll(resumed, 3), Is.EqualTo(all.Skip(middle + 1)));

        var wide = all.First(r => r.Length > MetadataWorkload.Block);
        var inside = wide.Offset + MetadataWorkload.Block + 100;
        using var clipped = Pool.GetChangedBlocks(first.Id, second.Id, inside, default);
        var answer = MetadataWorkload.ReadAll(clipped, 2);
        var from = wide.Offset + MetadataWorkload.Block;
        Assert.That(answer[0], Is.EqualTo(new BlockRange(from, wide.End - from)), "clipped to the block holding the offset");
        Assert.That(answer.Skip(1), Is.EqualTo(all.SkipWhile(r => r != wide).Skip(1)));

        var allocated = MetadataWorkload.SeekData(ImagePath(second.Id), second.SizeBytes);
        using var allocatedResumed = Pool.GetAllocatedBlocks(second.Id, allocated[1].End, default);
        Assert.That(MetadataWorkload.ReadAll(allocatedResumed, 1), Is.EqualTo(allocated.Skip(2)));
    }

    [Test]
    public async Task StartingOffset_AtTheCapacity_IsEmpty_PastItOrNegative_IsOutOfRange()
    {
        var (first, second, _) = await TwoSnapshotsAsync(6);

        using var atEnd = Pool.GetChangedBlocks(first.Id, second.Id, second.SizeBytes, default);
        Assert.That(MetadataWorkload.ReadAll(atEnd, 5), Is.Empty);
        Assert.Throws<OutOfRangeException>(() => Pool.GetChangedBlocks(first.Id, second.Id, second.SizeBytes + 1, default));
        Assert.Throws<OutOfRangeException>(() => Pool.GetAllocatedBlocks(second.Id, second.SizeBytes + 1, default));
        Assert.Throws<OutOfRangeException>(() => Pool.GetAllocatedBlocks(second.Id, -1, default));
    }

    [Test]
    public async Task UnknownSnapshots_AreNotFound_OtherVolumes_AndABaseTakenAfter_AreInvalid()
    {
        var (first, second, _) = await TwoSnapshotsAsync(7);
        var other = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "other", RequiredBytes = 8 * MiB }, default);
        var otherSnapshot = await Pool.CreateSnapshotAsync("other-snap", other.Id, default);
        var unknown = ObjectId.New(ObjectKind.Snapshot);

        Assert.That(Assert.Throws<NotFoundException>(() => Pool.GetAllocatedBlocks(unknown, 0, default))!.Message,
            Does.Contain("snapshot_id"));
        Assert.That(Assert.Throws<NotFoundException>(() => Pool.GetChangedBlocks(first.Id, unknown, 0, default))!.Message,
            Does.Contain("target_snapshot_id"));
        Assert.That(Assert.Throws<NotFoundException>(() => Pool.GetChangedBlocks(unknown, second.Id, 0, default))!.Message,
            Does.Contain("base_snapshot_id"));
        Assert.That(Assert.Throws<InvalidArgumentException>(() => Pool.GetChangedBlocks(first.Id, otherSnapshot.Id, 0, default))!
            .Message, Does.Contain("same volume"));
        Assert.That(Assert.Throws<InvalidArgumentException>(() => Pool.GetChangedBlocks(second.Id, first.Id, 0, default))!
            .Message, Does.Contain("earlier"));
    }

    [Test]
    public async Task SnapshotDeletedWhileStreaming_IsReadToTheEnd_AndNotFoundAfter()
    {
        var (first, second, _) = await TwoSnapshotsAsync(8);
        using var whole = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        var expected = MetadataWorkload.ReadAll(whole, 1024);

        using var stream = Pool.GetChangedBlocks(first.Id, second.Id, 0, default);
        var received = stream.Next(2).ToList();
        await Pool.DeleteSnapshotAsync(second.Id, default);
        Assert.That(File.Exists(ImagePath(second.Id)), Is.False);
        received.AddRange(MetadataWorkload.ReadAll(stream, 2));

        Assert.That(received, Is.EqualTo(expected));
        Assert.Throws<NotFoundException>(() => Pool.GetChangedBlocks(first.Id, second.Id, 0, default));
    }

    [Test]
    public async Task ImageReplacedByALink_IsRefused()
    {
        var (first, second, _) = await TwoSnapshotsAsync(9);
        File.Delete(ImagePath(second.Id));
        File.CreateSymbolicLink(ImagePath(second.Id), ImagePath(first.Id));

        Assert.Throws<InvalidOperationException>(() => Pool.GetAllocatedBlocks(second.Id, 0, default));
        Assert.Throws<InvalidOperationException>(() => Pool.GetChangedBlocks(first.Id, second.Id, 0, default));
    }

    /// <summary>
    /// A 24 MiB volume with random writes, a first snapshot, growth to 32 MiB, random writes (new areas and
    /// overwrites, some past the old size) and punched holes, and a second snapshot.
    /// </summary>
    private async Task<(SnapshotInfo First, SnapshotInfo Second, VolumeInfo Volume)> TwoSnapshotsAsync(int seed)
    {
        var random = new Random(seed);
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = $"vol-{seed}", RequiredBytes = 24 * MiB }, default);
        MetadataWorkload.WriteRandom(ImagePath(volume.Id), random, 60, 20 * MiB);
        var first = await Pool.CreateSnapshotAsync($"snap-{seed}-a", volume.Id, default);
        await Pool.ExpandVolumeAsync(volume.Id, 32 * MiB, 0, default);
        MetadataWorkload.WriteRandom(ImagePath(volume.Id), random, 40, 32 * MiB);
        MetadataWorkload.PunchRandom(ImagePath(volume.Id), random, 15, 24 * MiB);
        var second = await Pool.CreateSnapshotAsync($"snap-{seed}-b", volume.Id, default);
        return (first, second, volume);
    }
}
