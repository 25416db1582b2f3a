using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Journal;

/// <summary>Telling a missing or empty journal from a used or damaged one, without writing anything.</summary>
public sealed class ProbeTests
{
    [Test]
    public async Task Probe_TellsMissingEmptyAndUsedJournals_AndWritesNothing()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        var missing = Loopvol.Journal.Journal.Probe(path);
        File.WriteAllBytes(path, []);
        var zeroBytes = Loopvol.Journal.Journal.Probe(path);
        File.Delete(path);
        Loopvol.Journal.Journal.Open(path).Dispose();
        var noRecords = Loopvol.Journal.Journal.Probe(path);
        using (var journal = Loopvol.Journal.Journal.Open(path))
        {
            await journal.ReserveAsync(Core.Ids.ObjectKind.Volume, "pvc-1", JournalFile.Args());
        }
        var files = Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal).ToList();
        var used = Loopvol.Journal.Journal.Probe(path);

        Assert.That(missing, Is.EqualTo(JournalContents.Missing));
        Assert.That(zeroBytes, Is.EqualTo(JournalContents.Empty));
        Assert.That(noRecords, Is.EqualTo(JournalContents.Empty));
        Assert.That(used, Is.EqualTo(JournalContents.Records));
        Assert.That(Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal), Is.EqualTo(files), "probing creates no file");
    }

    [Test]
    public void Probe_NotADatabase_OrALogWithoutItsJournal_IsDamaged()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        File.WriteAllText(path, "this is not a database, but it is long enough to be taken for one by a careless reader");
        var garbage = Assert.Throws<JournalException>(() => Loopvol.Journal.Journal.Probe(path));
        File.Delete(path);
        File.WriteAllBytes(path + "-wal", new byte[4096]);
        var orphanLog = Assert.Throws<JournalException>(() => Loopvol.Journal.Journal.Probe(path));

        Assert.That(garbage!.Message, Does.Contain("cannot be read"));
        Assert.That(orphanLog!.Message, Does.Contain("write-ahead log"));
    }

    [Test]
    public void Guard_EmptyJournalAndEmptyPool_IsUsable_EmptyJournalOverImages_IsRefusedNamingRebuild()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        var layout = new PoolLayout(dir.Combine("pool"));
        Directory.CreateDirectory(layout.Directory);

        Assert.That(JournalGuard.EnsureUsable(path, layout), Is.EqualTo(JournalContents.Missing));
        File.WriteAllBytes(layout.ImagePath($"vol-{Guid.NewGuid():D}"), []);
        var error = Assert.Throws<JournalException>(() => JournalGuard.EnsureUsable(path, layout));

        Assert.That(error!.Message, Does.Contain("is missing").And.Contain("holds 1 image(s)")
            .And.Contain($"loopvol journal rebuild --data-dir {dir.Path} --pool-dir {layout.Directory}"));
        Assert.That(File.Exists(path), Is.False);
    }
}
