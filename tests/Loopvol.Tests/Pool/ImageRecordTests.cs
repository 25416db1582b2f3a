using Grpc.Core;
using Loopvol.Cli;
using Loopvol.Core.Ids;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;
using Loopvol.Hosting;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Pool;

/// <summary>Every image in the pool carries its own record (user.loopvol.record), so the pool describes itself.</summary>
public sealed class ImageRecordTests
{
    [Test]
    public async Task CreatedImages_CarryTheJournalsRecord_AndAGroupMemberItsGroup()
    {
        await using var driver = await InProcessDriver.StartAsync();
        var a = await CreateAsync(driver, "pvc-a");
        var b = await CreateAsync(driver, "pvc-b");
        var snapshot = (await driver.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-a", SourceVolumeId = a })).Snapshot.SnapshotId;
        var group = (await driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { a, b } })).GroupSnapshot;
        var journal = driver.Driver.Journal;

        foreach (var id in new[] { a, b, snapshot })
        {
            var record = journal.All().Single(r => r.Id.ToString() == id);
            Assert.That(ImageRecords.Read(Image(driver, id))!.ToJson(), Is.EqualTo(StoragePool.Portable(record).ToJson()));
        }
        var groupRecord = journal.Get(ObjectId.Parse(group.GroupSnapshotId, ObjectKind.Group, "t"))!;
        foreach (var member in group.Snapshots)
        {
            var carried = ImageRecords.Read(Image(driver, member.SnapshotId))!;
            Assert.That(carried.Arguments.SourceVolume.ToString(), Is.EqualTo(member.SourceVolumeId));
            Assert.That(carried.Group, Is.EqualTo(new PortableGroup(groupRecord.Id, "group-1", groupRecord.CreatedAt, 2)));
        }
    }

    [Test]
    public async Task Start_WritesTheRecordOnImagesThatCarryNone()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        Directory.CreateDirectory(layout.Directory);
        Reservation created;
        using (var j = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            created = await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "pvc-old", new DefiningArguments { RequiredBytes = 4096 })).Id, 4096);
        }
        await File.WriteAllBytesAsync(layout.ImagePath(created.Id.ToString()), new byte[4096]);
        Assert.That(ImageRecords.Read(layout.ImagePath(created.Id.ToString())), Is.Null);

        await using var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = data });

        Assert.That(ImageRecords.Read(layout.ImagePath(created.Id.ToString()))!.ToJson(),
            Is.EqualTo(StoragePool.Portable(created).ToJson()));
        Assert.That(driver.Logs.AllText, Does.Contain("wrote the record of 1 image(s)"));
    }

    [Test]
    public async Task AnImageWhoseRecordTheJournalLost_IsReported_AndGcNeverDeletesIt()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        string id;
        await using (var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = data }))
        {
            id = await CreateAsync(driver, "pvc-kept");
            await CreateAsync(driver, "pvc-other");
            await driver.Driver.Journal.RemoveAsync(ObjectId.Parse(id, ObjectKind.Volume, "t")); // As a journal restored from an older backup.
        }

        var check = await RunAsync(data, "journal", "check");
        var gc = await RunAsync(data, "journal", "gc", "--apply");

        Assert.That(check.Text, Does.Contain($"OrphanBackend: {id}").And.Contain("carries its own: 'pvc-kept'"));
        Assert.That(gc.Text, Does.Contain("repaired 0:").And.Contain("needs an operator (1):"));
        Assert.That(File.Exists(Path.Combine(data, "pool", id + ".img")), Is.True);
    }

    [Test]
    public async Task Rebuild_AGroupMissingAMemberImage_IsNotRecovered_AndItsImagesStay()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        string a, b;
        CreateVolumeGroupSnapshotResponse group;
        await using (var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = data }))
        {
            a = await CreateAsync(driver, "pvc-a");
            b = await CreateAsync(driver, "pvc-b");
            group = await driver.CallAsync<CreateVolumeGroupSnapshotResponse>("GroupController", "CreateVolumeGroupSnapshot",
                new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { a, b } });
        }
        var (lost, kept) = (group.GroupSnapshot.Snapshots[0].SnapshotId, group.GroupSnapshot.Snapshots[1].SnapshotId);
        File.Delete(Path.Combine(data, "pool", lost + ".img"));
        File.Delete(Path.Combine(data, "journal.db"));

        var rebuilt = await RunAsync(data, "journal", "rebuild");

        Assert.That(rebuilt.Exit, Is.EqualTo(1), "something was not recovered");
        Assert.That(rebuilt.Text, Does.Contain("2 volume(s), 0 snapshot(s), 0 group snapshot(s)"));
        Assert.That(rebuilt.Text, Does.Contain($"group snapshot {group.GroupSnapshot.GroupSnapshotId} ('group-1'): 1 of its 2 member images"));
        Assert.That(File.Exists(Path.Combine(data, "pool", kept + ".img")), Is.True, "rebuild deletes nothing");
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        Assert.That(journal.All().Select(r => r.Id.ToString()), Is.EquivalentTo(new[] { a, b }));
    }

    [Test]
    public async Task CreateVolume_WhoseRecordWouldNotFitOnItsImage_IsInvalidArgument_BeforeAnythingIsMade()
    {
        await using var driver = await InProcessDriver.StartAsync();
        var capability = ControllerFixture.Mount();
        capability.Mount.MountFlags.Add(Enumerable.Range(0, ImageRecords.MaxBytes / 8).Select(i => $"commit={i}"));
        var request = new CreateVolumeRequest { Name = "pvc-huge", VolumeCapabilities = { capability } };

        var error = Assert.ThrowsAsync<RpcException>(() => driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", request));

        Assert.That(error!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(error.Status.Detail, Does.Contain("too large to record"));
        Assert.That(driver.Driver.Journal.All(), Is.Empty);
        Assert.That(Directory.GetFiles(driver.Settings.PoolDirectory, "*.img"), Is.Empty);
    }

    [Test]
    public async Task Start_OnAPoolWithoutUserExtendedAttributes_IsRefused()
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        var mount = Directory.CreateDirectory(dir.Combine("ramfs")).FullName;
        await Processes.RunAsync("mount", ["-t", "ramfs", "ramfs", mount]);
        try
        {
            var settings = new DriverSettings
            {
                Endpoint = GrpcEndpoint.Unix(dir.Combine("csi.sock")), NodeId = "node-1", DriverName = "loopvol.csi.dev",
                DataDirectory = dir.Combine("data"), PoolDirectory = Path.Combine(mount, "pool"),
            };

            var error = Assert.ThrowsAsync<IOException>(() => Driver.CreateAsync(settings, NullLoggerFactory.Instance));

            Assert.That(error!.Message, Does.Contain("does not keep user extended attributes"));
        }
        finally
        {
            await Processes.RunAsync("umount", [mount]);
        }
    }

    private static async Task<string> CreateAsync(InProcessDriver driver, string name) =>
        (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
        {
            Name = name, CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 }, VolumeCapabilities = { ControllerFixture.Mount("ext4") },
        })).Volume.VolumeId;

    private static string Image(InProcessDriver driver, string id) => Path.Combine(driver.Settings.PoolDirectory, id + ".img");

    private static async Task<(int Exit, string Text)> RunAsync(string data, params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LoopvolCommand.RunAsync([.. args, "--data-dir", data], output, output);
        return (exit, output.ToString());
    }
}
