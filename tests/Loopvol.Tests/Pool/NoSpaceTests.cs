using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal.Maintenance;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>
/// The pool when its file system runs out of room in the middle of a create: the file system is filled (for real)
/// at the step just before the image is written, so the write itself meets ENOSPC. The create is resource
/// exhausted and leaves nothing: no image, no half-written file, no record; the name is free, and once space is
/// freed the same create succeeds. Sizes a file system cannot hold are out of range, and leave nothing either.
/// </summary>
[TestFixture("xfs")]
[TestFixture("ext4")]
public sealed class NoSpaceTests(string fsType)
{
    private const long MiB = 1 << 20;
    private LoopFileSystem _fs = null!;
    private TempDirectory _journalDirectory = null!;
    private FillAt _faults = null!;
    private StoragePool _pool = null!;
    private VolumeInfo _source = null!;

    [SetUp]
    public async Task SetUpAsync()
    {
        _fs = await LoopFileSystem.CreateAsync(fsType, 512 * MiB);
        _faults = new FillAt(_fs.MountPoint);
        var directory = Path.Combine(_fs.MountPoint, "pool");
        // The journal elsewhere: how the driver keeps room for it on a full pool is FullPoolTests' subject.
        _journalDirectory = new TempDirectory();
        var journal = Loopvol.Journal.Journal.Open(_journalDirectory.Combine("journal.db"));
        // Over-committed, so that admission lets the creates through to the file system.
        _pool = new StoragePool(journal, new ImageStore(new PoolLayout(directory), _faults),
            new PoolOptions { OvercommitRatio = 100, Faults = _faults });
        _source = await _pool.CreateVolumeAsync(new VolumeRequest { Name = "source", RequiredBytes = 64 * MiB }, default);
        using var handle = File.OpenHandle(ImagePath(_source.Id), FileMode.Open, FileAccess.Write);
        var data = new byte[16 * MiB];
        Random.Shared.NextBytes(data);
        RandomAccess.Write(handle, data, 0);
        RandomAccess.FlushToDisk(handle);
    }

    [TearDown]
    public void TearDown()
    {
        _faults.Filler?.Dispose();
        _pool.DrainDeletesAsync().GetAwaiter().GetResult();
        _pool.Journal.Dispose();
        _journalDirectory.Dispose();
        _fs.Dispose();
    }

    [OneTimeTearDown]
    public void NothingLeftBehind() => HostLeaks.AssertNone();

    [Test]
    public async Task Snapshot_RunsOutOfRoom_IsExhausted_LeavesNothing_RetrySucceedsOnceFreed() =>
        await AssertExhaustedThenRetried("create-snapshot.reserved", async () => (await _pool.CreateSnapshotAsync("snap-1", _source.Id, default)).Id);

    [Test]
    public async Task Clone_RunsOutOfRoom_IsExhausted_LeavesNothing_RetrySucceedsOnceFreed() =>
        await AssertExhaustedThenRetried("create-volume.reserved", async () => (await _pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = "clone-1", Source = new ContentSource(_source.Id),
        }, default)).Id);

    [Test]
    public async Task GroupSnapshot_RunsOutOfRoom_IsExhausted_LeavesNothing_RetrySucceedsOnceFreed()
    {
        // Nothing is staged here, so the real quiescer has nothing to freeze.
        var quiescer = new Loopvol.NodeHost.MountQuiescer(_pool.Journal, TimeSpan.FromSeconds(10), NoFaults.Instance);
        var second = await _pool.CreateVolumeAsync(new VolumeRequest { Name = "second", RequiredBytes = 16 * MiB }, default);
        await AssertExhaustedThenRetried("create-group.reserved",
            async () => (await _pool.CreateGroupSnapshotAsync("group-1", [_source.Id, second.Id], quiescer, default)).Id, second.Id);
    }

    [Test]
    public async Task FullPool_NewImageStoreStarts_AndCreatesAreRefusedUpFront()
    {
        _faults.Filler = await Filler.FillAsync(_fs.MountPoint);

        var images = new ImageStore(_pool.Images.Layout);
        var pool = new StoragePool(_pool.Journal, images, new PoolOptions { OvercommitRatio = 100, FullBelowBytes = MiB });

        Assert.That(images.SupportsReflink, Is.Null.Or.EqualTo(fsType == "xfs"));
        Assert.ThrowsAsync<ResourceExhaustedException>(() => pool.CreateSnapshotAsync("snap-1", _source.Id, default));
        Assert.ThrowsAsync<ResourceExhaustedException>(() =>
            pool.CreateVolumeAsync(new VolumeRequest { Name = "empty", RequiredBytes = 16 * MiB }, default));
        AssertOnlyTheSource();
        _faults.Filler.Dispose();
        _faults.Filler = null;
        Assert.That((await pool.CreateSnapshotAsync("snap-1", _source.Id, default)).SizeBytes, Is.EqualTo(64 * MiB));
        Assert.That(images.SupportsReflink, Is.EqualTo(fsType == "xfs"), "the first copy tells");
    }

    [Test]
    public async Task SizeBeyondWhatTheFileSystemHolds_IsOutOfRange_AndLeavesNothing()
    {
        // 32 TiB: past ext4's largest file (16 TiB with 4 KiB blocks); XFS holds it, as a sparse file.
        const long huge = 32L << 40;
        var pool = new StoragePool(_pool.Journal, _pool.Images, new PoolOptions { OvercommitRatio = 1e6 });

        if (fsType == "ext4")
        {
            Assert.ThrowsAsync<OutOfRangeException>(() => pool.CreateVolumeAsync(new VolumeRequest { Name = "huge", RequiredBytes = huge }, default));
            Assert.ThrowsAsync<OutOfRangeException>(() => pool.ExpandVolumeAsync(_source.Id, huge, 0, CancellationToken.None));
            AssertOnlyTheSource();
            Assert.That(new FileInfo(ImagePath(_source.Id)).Length, Is.EqualTo(64 * MiB), "the image kept its size");
        }
        else
        {
            Assert.That(await pool.ExpandVolumeAsync(_source.Id, huge, 0, CancellationToken.None), Is.EqualTo(huge));
            Assert.That(new FileInfo(ImagePath(_source.Id)).Length, Is.EqualTo(huge));
        }
    }

    private async Task AssertExhaustedThenRetried(string point, Func<Task<ObjectId>> create, params ObjectId[] alsoThere)
    {
        _faults.Point = point;

        var error = Assert.ThrowsAsync<ResourceExhaustedException>(() => create());

        TestContext.Out.WriteLine(error!.Message);
        AssertOnlyTheSource(alsoThere);
        _faults.Point = null;
        _faults.Filler!.Dispose();
        _faults.Filler = null;
        var made = await create();
        Assert.That(await create(), Is.EqualTo(made), "the retry is idempotent");
        var images = made.Kind == ObjectKind.Group
            ? _pool.GetGroupSnapshot(made)!.Members.Select(m => m.Id).ToList()
            : [made];
        Assert.That(images, Has.Count.EqualTo(made.Kind == ObjectKind.Group ? alsoThere.Length + 1 : 1));
        Assert.That(images.Select(id => File.Exists(ImagePath(id))), Is.All.True);
    }

    private void AssertOnlyTheSource(params ObjectId[] alsoThere)
    {
        var layout = _pool.Images.Layout;
        ObjectId[] expected = [_source.Id, .. alsoThere];
        Assert.That(_pool.Journal.All().Select(r => r.Id), Is.EquivalentTo(expected), "no record, not even a faulty one");
        Assert.That(new PoolInventory(layout).BackendNames(), Is.EquivalentTo(expected.Select(id => id.ToString())), "no image");
        Assert.That(Directory.GetFiles(layout.IncomingDirectory), Is.Empty, "no half-written image");
        Assert.That(JournalAudit.Check(_pool.Journal, new PoolInventory(layout), DateTimeOffset.UtcNow, TimeSpan.Zero), Is.Empty);
    }

    private string ImagePath(ObjectId id) => _pool.Images.Layout.ImagePath(id.ToString());

    /// <summary>Fills the file system when an operation reaches <see cref="Point"/>: the moment cannot be timed otherwise.</summary>
    private sealed class FillAt(string mountPoint) : IFaultInjector
    {
        public string? Point { get; set; }

        public Filler? Filler { get; set; }

        public void Reached(string point)
        {
            if (point == Point && Filler is null)
            {
                Filler = Support.Filler.FillAsync(mountPoint).GetAwaiter().GetResult();
            }
        }
    }
}
