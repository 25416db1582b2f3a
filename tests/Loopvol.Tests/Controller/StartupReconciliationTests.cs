using Loopvol.Core.Ids;
using Loopvol.Hosting;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Controller;

public sealed class StartupReconciliationTests
{
    [Test]
    public async Task Start_RepairsWhatACrashLeft_AndOnlyReportsOrphansAndLostImages()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        Directory.CreateDirectory(layout.Directory);
        ObjectId healthy, stale, faulty, deleting, lost, orphan;
        using (var j = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            var args = new DefiningArguments { RequiredBytes = 4096 };
            healthy = (await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "healthy", args)).Id, 4096)).Id;
            stale = (await j.ReserveAsync(ObjectKind.Volume, "stale", args)).Id;
            faulty = (await j.ReserveAsync(ObjectKind.Volume, "faulty", args)).Id;
            await j.MarkFaultyAsync(faulty);
            deleting = (await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "deleting", args)).Id, 4096)).Id;
            await j.MarkDeletingAsync(deleting);
            lost = (await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "lost", args)).Id, 4096)).Id;
            orphan = ObjectId.New(ObjectKind.Volume);
        }
        foreach (var id in new[] { healthy, faulty, orphan })
        {
            await File.WriteAllBytesAsync(layout.ImagePath(id.ToString()), new byte[4096]);
        }

        await using var driver = await InProcessDriver.StartAsync(s => s with { DataDirectory = data });

        var journal = driver.Driver.Journal;
        Assert.That(journal.Get(healthy)!.State, Is.EqualTo(ReservationState.Created));
        Assert.That(journal.Get(stale), Is.Null, "a stale reservation is undone");
        Assert.That(journal.Get(faulty), Is.Null, "a faulty record is removed");
        Assert.That(File.Exists(layout.ImagePath(faulty.ToString())), Is.False, "with what it left");
        Assert.That(journal.Get(deleting), Is.Null, "an interrupted delete is finished");
        Assert.That(journal.Get(lost), Is.Not.Null, "a record whose image is lost is kept for a person");
        Assert.That(File.Exists(layout.ImagePath(orphan.ToString())), Is.True, "an image without a record is kept");
        Assert.That(driver.Logs.AllText, Does.Contain("OrphanBackend").And.Contain("MissingBackend").And.Contain("3 repaired, 2 reported"));
    }

    [Test]
    public async Task Start_DataDirectoryInUseByAnotherDriver_IsRefused()
    {
        await using var first = await InProcessDriver.StartAsync();

        var error = Assert.ThrowsAsync<IOException>(() => Driver.CreateAsync(first.Settings with
        {
            Endpoint = Loopvol.Csi.Transport.GrpcEndpoint.Unix(Path.Combine(Path.GetTempPath(), $"loopvol-other-{Guid.NewGuid():N}.sock")),
        }, NullLoggerFactory.Instance));

        Assert.That(error!.Message, Does.Contain("another loopvol process"));
    }
}
