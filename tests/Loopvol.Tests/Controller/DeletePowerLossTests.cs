using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Support;
using static Loopvol.Tests.Controller.CrashTests;

namespace Loopvol.Tests.Controller;

/// <summary>
/// A delete answers once its record is marked (durably) and its image unlinked, without syncing the directory; the
/// record goes later, after the sweeper's directory sync (docs/durability.md). The real driver is killed at the
/// steps around that, and the unlink a power loss could lose is undone by hand (the image linked back): the record
/// must still be there, being deleted, and start-up must finish the delete.
/// </summary>
public sealed class DeletePowerLossTests
{
    /// <summary>
    /// Before the answer (the unlink done, nothing synced), and after it, just before the sweeper's directory sync
    /// (whatever the sweeper did before that sync, the record must have survived it).
    /// </summary>
    private static readonly object[] Cases =
    [
        new object[] { "volume", "image.delete.after-unlink" },
        new object[] { "volume", "image.directory.before-sync" },
        new object[] { "snapshot", "image.delete.after-unlink" },
        new object[] { "snapshot", "image.directory.before-sync" },
    ];

    [TestCaseSource(nameof(Cases))]
    public async Task Delete_UnlinkLostByAPowerLoss_RecordIsStillDeleting_StartFinishesTheDelete(string kind, string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);
        var target = volume;
        if (kind == "snapshot")
        {
            await using var driver = await DriverProcess.StartAsync(data);
            using var client = new CsiClient(driver.Endpoint);
            target = (await Snapshot(client, volume)).Snapshot.SnapshotId;
            driver.Signal(15);
            await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        var image = new PoolLayout(Path.Combine(data, "pool")).ImagePath(target);
        var aside = dir.Combine("aside.img");
        await Processes.RunAsync("ln", [image, aside]);

        Func<CsiClient, Task<Google.Protobuf.IMessage>> delete = kind == "volume"
            ? async c => await Delete(c, target)
            : async c => await c.UnaryAsync<DeleteSnapshotResponse>("Controller", "DeleteSnapshot",
                new DeleteSnapshotRequest { SnapshotId = target });
        if (point == "image.directory.before-sync")
        {
            await CrashAfterAnswerAsync(data, point, delete);
        }
        else
        {
            await CrashAsync(data, point, delete);
        }
        Assert.That(File.Exists(image), Is.False, "killed after the unlink");
        using (var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            var record = journal.All().Single(r => r.Id.ToString() == target);
            Assert.That(record.State, Is.EqualTo(ReservationState.Deleting),
                "the record stays until the directory is synced: never removed before its unlink is on disk");
            Assert.That(journal.Find(record.Id.Kind, record.RequestName), Is.Null, "its name is free already");
        }
        await Processes.RunAsync("ln", [aside, image]); // The unlink never reached the disk.
        File.Delete(aside);

        await using (var driver = await DriverProcess.StartAsync(data))
        {
            Assert.That(File.Exists(image), Is.False, "start-up deleted the image again");
            using var client = new CsiClient(driver.Endpoint);
            await delete(client); // The CO's retry, if the answer never reached it: success.
            driver.Signal(15);
            Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero);
            Assert.That(driver.Output, Does.Contain($"finished the delete of {target}")
                .And.Contain("its image was still there and is deleted now"));
        }
        AssertClean(data, images: kind == "volume" ? 0 : 1);
    }

    [Test]
    public async Task DeleteVolume_Answered_SameNameCreatedAtOnce_IsANewVolume_AndTheOldOneIsListedNowhere()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        await using var driver = await DriverProcess.StartAsync(data);
        using var client = new CsiClient(driver.Endpoint);

        var old = (await Create(client, "pvc-1")).Volume.VolumeId;
        await Delete(client, old);
        var fresh = (await Create(client, "pvc-1")).Volume.VolumeId;
        var listed = await client.UnaryAsync<ListVolumesResponse>("Controller", "ListVolumes", new ListVolumesRequest());
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero);

        Assert.That(fresh, Is.Not.EqualTo(old));
        Assert.That(listed.Entries.Select(e => e.Volume.VolumeId), Is.EqualTo(new[] { fresh }));
        AssertClean(data, images: 1);
    }
}
