using System.Security.Cryptography;
using Loopvol.Journal;
using Loopvol.Journal.Schema;
using Loopvol.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loopvol.Tests.Journal;

public sealed class SchemaTests
{
    [Test]
    public void Open_NewFile_IsAtTheCurrentVersionInWalMode()
    {
        using var file = new JournalFile();
        file.Journal.Dispose();

        using var raw = Raw(file.Path);
        Assert.That(Pragma(raw, "user_version"), Is.EqualTo(Migrations.CurrentVersion.ToString()));
        Assert.That(Pragma(raw, "journal_mode"), Is.EqualTo("wal"));
        file.Reopen();
    }

    /// <summary>Every earlier schema version has a checked-in fixture written by the code of that version.</summary>
    private static IEnumerable<TestCaseData> EarlierVersions() =>
        Enumerable.Range(1, Migrations.CurrentVersion - 1)
            .Select(v => new TestCaseData(v).SetName($"Migrate_FixtureOfVersion{v}_KeepsEveryRecordAndVerifies"));

    [TestCaseSource(nameof(EarlierVersions))]
    public async Task Migrate_FixtureOfAnEarlierVersion_ReachesTheCurrentVersionWithItsData(int version)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journal", "Fixtures", $"journal-v{version}.db"), path);

        using (var journal = Loopvol.Journal.Journal.Open(path))
        {
            Assert.That(journal.Verify(), Is.Empty);
            var volume = journal.Find(Loopvol.Core.Ids.ObjectKind.Volume, "pvc-fixture-1")!;
            Assert.That(volume.State, Is.EqualTo(Loopvol.Journal.Model.ReservationState.Created));
            Assert.That(volume.Arguments.Parameters["fsType"], Is.EqualTo("xfs"));
            Assert.That(journal.All(), Has.Count.EqualTo(5));
            Assert.That(journal.GetNodeVolume(volume.Id.ToString())!.ReferenceCount, Is.EqualTo(1));
            var group = journal.Find(Loopvol.Core.Ids.ObjectKind.Group, "group-fixture-1")!;
            Assert.That(journal.Members(group.Id), Has.Count.EqualTo(1));
            await journal.AddControllerPublicationAsync(volume.Id.ToString(), "node-1", false);
            Assert.That(journal.ControllerPublications(volume.Id.ToString()), Is.EqualTo(new[] { "node-1" }));
        }
        using var raw = Raw(path);
        Assert.That(Pragma(raw, "user_version"), Is.EqualTo(Migrations.CurrentVersion.ToString()));
    }

    [Test]
    public void Migrate_EveryEarlierVersionHasAFixture() =>
        Assert.That(Enumerable.Range(1, Migrations.CurrentVersion - 1).Select(v =>
                File.Exists(Path.Combine(AppContext.BaseDirectory, "Journal", "Fixtures", $"journal-v{v}.db"))),
            Is.All.True);

    [Test]
    public void Open_DatabaseOfANewerSchema_IsRefusedAndLeftByteForByteUntouched()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        Loopvol.Journal.Journal.Open(path).Dispose();
        using (var raw = Raw(path))
        {
            using var command = raw.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {Migrations.CurrentVersion + 1}";
            command.ExecuteNonQuery();
        }
        var before = Hash(dir.Path);

        var error = Assert.Throws<JournalException>(() => Loopvol.Journal.Journal.Open(path));

        Assert.That(error!.Message, Does.Contain("newer loopvol").And.Contain("not opened or changed"));
        Assert.That(Hash(dir.Path), Is.EqualTo(before), "no file of the journal may change");
    }

    [Test]
    public async Task Open_CorruptFile_IsRefusedWithAClearMessage()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        using (var file = new JournalFile())
        {
            for (var i = 0; i < 200; i++)
            {
                await file.CreatedAsync($"pvc-{i}");
            }
            file.Journal.Dispose();
            File.Copy(file.Path, path);
            file.Reopen();
        }
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.Position = 4096; // Pages 2 and 3: the first tables' b-tree pages, headers included.
            stream.Write(Enumerable.Repeat((byte)0xA5, 2 * 4096).ToArray());
        }

        var error = Assert.Throws<JournalException>(() => Loopvol.Journal.Journal.Open(path));

        Assert.That(error!.Message, Does.Contain("integrity").Or.Contain("cannot be read"));
    }

    [Test]
    public async Task Backup_WhileInUse_GivesAJournalWithTheSameRecords()
    {
        using var file = new JournalFile();
        var ids = await file.CreatedIdsAsync(50, "pvc-");
        var copy = Path.Combine(file.Directory, "backup.db");

        file.Journal.Backup(copy);

        using var restored = Loopvol.Journal.Journal.Open(copy);
        Assert.That(ids.Select(id => restored.Get(id) is not null), Is.All.True);
        Assert.That(restored.Verify(), Is.Empty);
    }

    private static SqliteConnection Raw(string path)
    {
        var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        return connection;
    }

    private static string Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static string Hash(string directory) => string.Join(",",
        Directory.GetFiles(directory).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetFileName(f)}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}"));
}
