using System.Collections.Concurrent;
using Loopvol.Core.Faults;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Pool.Model;

namespace Loopvol.Tests.Pool;

/// <summary>
/// Deletes answer once the record is marked and the image unlinked; the pool's sweeper removes the records after
/// one directory sync per round (docs/durability.md). Each test builds its pool with a fault injector that counts
/// the steps, holds one, or fails one: the timing of a background round cannot be controlled otherwise.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class DeleteSweeperTests(string fsType) : PoolOnFileSystem(fsType)
{
    private const long MiB = 1 << 20;

    [Test]
    public async Task DeleteVolume_NameIsFreeAtOnce_OldRecordListedNowhere_AndGoneAfterTheSweep()
    {
        var old = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);

        await Pool.DeleteVolumeAsync(old.Id, default);
        var fresh = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);

        Assert.That(fresh.Id, Is.Not.EqualTo(old.Id));
        Assert.That(Pool.GetVolume(old.Id), Is.Null);
        Assert.That(Pool.ListVolumes(null, 0, false).Items.Select(v => v.Volume.Id), Is.EqualTo(new[] { fresh.Id }));
        Assert.That(File.Exists(ImagePath(old.Id)), Is.False, "unlinked before the answer");
        await Pool.DrainDeletesAsync();
        Assert.That(Pool.Journal.Get(old.Id), Is.Null, "the sweeper removed the record");
    }

    [Test]
    public async Task DeleteVolume_OfARecordLeftDeleting_IsListedNowhere_AnswersAgainAndFinishes()
    {
        var steps = new Steps { FailAt = "delete-volume.marked" };
        var pool = Open(steps);
        var volume = await pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        Assert.ThrowsAsync<InvalidOperationException>(() => pool.DeleteVolumeAsync(volume.Id, default));
        Assert.That(pool.Journal.Get(volume.Id)!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(File.Exists(ImagePath(volume.Id)), Is.True, "interrupted before the unlink");

        Assert.That(pool.GetVolume(volume.Id), Is.Null);
        Assert.That(pool.GetVolumeStatus(volume.Id, false), Is.Null);
        Assert.That(pool.ListVolumes(null, 0, false).Items, Is.Empty);
        steps.FailAt = null;
        await pool.DeleteVolumeAsync(volume.Id, default);
        await pool.DrainDeletesAsync();

        Assert.That(pool.Journal.Get(volume.Id), Is.Null);
        Assert.That(File.Exists(ImagePath(volume.Id)), Is.False);
    }

    [Test]
    public async Task ManyDeletes_WhileARoundRuns_AreSweptTogether_OneDirectorySyncAndOneJournalWrite()
    {
        var steps = new Steps { HoldAt = "sweep.collected" };
        var pool = Open(steps);
        var volumes = new List<Loopvol.Core.Ids.ObjectId>();
        for (var i = 0; i < 6; i++)
        {
            volumes.Add((await pool.CreateVolumeAsync(new VolumeRequest { Name = $"pvc-{i}", RequiredBytes = MiB }, default)).Id);
        }

        await pool.DeleteVolumeAsync(volumes[0], default);
        Assert.That(steps.Held.Wait(TimeSpan.FromSeconds(10)), Is.True, "the first round started");
        foreach (var volume in volumes.Skip(1))
        {
            await pool.DeleteVolumeAsync(volume, default); // Answered while the first round is held.
        }
        Assert.That(volumes.Select(v => pool.Journal.Get(v)?.State), Is.All.EqualTo(ReservationState.Deleting));
        steps.Release.Set();
        await pool.DrainDeletesAsync();

        Assert.That(volumes.Select(pool.Journal.Get), Is.All.Null);
        Assert.That(steps.Count("sweep.synced"), Is.EqualTo(2), "one directory sync per round: the first delete, then the five");
        Assert.That(steps.Count("remove-deleted.after-commit"), Is.EqualTo(2), "one journal write per round");
    }

    [Test]
    public async Task DeleteVolume_GivesItsCapacityBackAtTheAnswer_BeforeItsRecordGoes()
    {
        var steps = new Steps { HoldAt = "sweep.collected" };
        var pool = Open(steps);
        var volume = await pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 64 * MiB }, default);
        Assert.That(pool.Journal.ProvisionedBytes(), Is.EqualTo(64 * MiB));

        await pool.DeleteVolumeAsync(volume.Id, default);
        Assert.That(steps.Held.Wait(TimeSpan.FromSeconds(10)), Is.True);

        Assert.That(pool.Journal.Get(volume.Id)?.State, Is.EqualTo(ReservationState.Deleting), "the round is held");
        Assert.That(pool.Journal.ProvisionedBytes(), Is.Zero, "what admission counts against the over-commit limit");
        steps.Release.Set();
        await pool.DrainDeletesAsync();
    }

    [Test]
    public async Task ARoundThatFails_LeavesTheRecords_AndIsRetried()
    {
        var steps = new Steps { FailAt = "image.directory.before-sync", FailTimes = 2 };
        var pool = Open(steps);
        var volume = await pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = MiB }, default);

        await pool.DeleteVolumeAsync(volume.Id, default);
        Assert.That(SpinWait.SpinUntil(() => steps.Count("image.directory.before-sync") >= 1, TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(pool.Journal.Get(volume.Id)?.State, Is.EqualTo(ReservationState.Deleting), "no sync, so the record stays");

        Assert.That(SpinWait.SpinUntil(() => pool.Journal.Get(volume.Id) is null, TimeSpan.FromSeconds(10)), Is.True,
            "the third round syncs and removes it");
        Assert.That(steps.Count("image.directory.before-sync"), Is.EqualTo(3));
        Assert.That(steps.Count("sweep.synced"), Is.EqualTo(1));
    }

    [Test]
    public async Task EmptyVolume_IsNotDurable_UntilASnapshotOfIt_CopiesAndSnapshotsAreDurableFromTheStart()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        Assert.That(Pool.Journal.Get(volume.Id)!.ImageDurable, Is.False);

        var snapshot = await Pool.CreateSnapshotAsync("snap-1", volume.Id, default);
        var restored = await Pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "pvc-2", Source = new ContentSource(snapshot.Id),
        }, default);

        Assert.That(Pool.Journal.Get(volume.Id)!.ImageDurable, Is.True, "made durable before it was copied");
        Assert.That(Pool.Journal.Get(snapshot.Id)!.ImageDurable, Is.True);
        Assert.That(Pool.Journal.Get(restored.Id)!.ImageDurable, Is.True);
    }

    [Test]
    public async Task EmptyVolume_ImageLostBeforeItWasDurable_IsMadeAgainByItsFirstUse()
    {
        var volume = await Pool.CreateVolumeAsync(new VolumeRequest { Name = "pvc-1", RequiredBytes = 8 * MiB }, default);
        File.Delete(ImagePath(volume.Id));

        Assert.That(await Pool.ExpandVolumeAsync(volume.Id, 16 * MiB, 0, default), Is.EqualTo(16 * MiB));

        Assert.That(new FileInfo(ImagePath(volume.Id)).Length, Is.EqualTo(16 * MiB));
        Assert.That(ImageRecords.Read(ImagePath(volume.Id))!.Id, Is.EqualTo(volume.Id));
        Assert.That(Pool.Journal.Get(volume.Id)!.ImageDurable, Is.True);
    }

    /// <summary>A pool on its own journal, both reporting their steps to <paramref name="steps"/>; replaces the fixture's.</summary>
    private StoragePool Open(Steps steps)
    {
        ClosePool();
        var directory = Path.Combine(MountPoint, $"pool-{Guid.NewGuid():N}");
        var journal = Loopvol.Journal.Journal.Open(directory + ".journal.db", new JournalOptions { Faults = steps });
        Pool = new StoragePool(journal, new ImageStore(new PoolLayout(directory), steps), new PoolOptions { Faults = steps });
        SetPoolDirectory(directory);
        return Pool;
    }

    private sealed class Steps : IFaultInjector
    {
        private readonly ConcurrentQueue<string> _reached = new();
        private int _failed;

        public string? FailAt { get; set; }

        public int FailTimes { get; init; } = int.MaxValue;

        public string? HoldAt { get; init; }

        public ManualResetEventSlim Held { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public int Count(string point) => _reached.Count(p => p == point);

        public void Reached(string point)
        {
            _reached.Enqueue(point);
            if (point == HoldAt && !Held.IsSet)
            {
                Held.Set();
                Release.Wait(TimeSpan.FromSeconds(30));
            }
            if (point == FailAt && Interlocked.Increment(ref _failed) <= FailTimes)
            {
                throw new InvalidOperationException($"failed at {point}");
            }
        }
    }
}
