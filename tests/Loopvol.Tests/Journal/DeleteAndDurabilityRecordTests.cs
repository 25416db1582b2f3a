using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Loopvol.Tests.Journal;

/// <summary>What the pool's fsync budget (docs/durability.md) asks of the journal: image durability, names freed by a delete, removal in batches.</summary>
public sealed class DeleteAndDurabilityRecordTests
{
    [Test]
    public async Task MarkCreated_NotDurable_IsRecordedUntilMarkImageDurable_WhichRepeatsHarmlessly()
    {
        using var file = new JournalFile();
        var reserved = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var created = await file.Journal.MarkCreatedAsync(reserved.Id, 1 << 20, imageDurable: false);

        Assert.That(created.ImageDurable, Is.False);
        Assert.That(file.Journal.List(ObjectKind.Volume, null, 0).Items.Single().ImageDurable, Is.False);
        Assert.That(file.Reopen().Get(created.Id)!.ImageDurable, Is.False, "kept across a restart");
        Assert.That(await file.Journal.MarkImageDurableAsync(created.Id), Is.True);
        Assert.That(await file.Journal.MarkImageDurableAsync(created.Id), Is.False);
        Assert.That(file.Journal.Get(created.Id)!.ImageDurable, Is.True);
        Assert.That((await file.CreatedAsync("pvc-2")).ImageDurable, Is.True, "durable unless the create says otherwise");
    }

    [Test]
    public async Task MarkImageDurable_OfAReservedDeletingUnknownOrOtherKindRecord_ChangesNothing()
    {
        using var file = new JournalFile();
        var reserved = await file.Journal.ReserveAsync(ObjectKind.Volume, "reserved", JournalFile.Args());
        var deleting = await file.Journal.MarkCreatedAsync(
            (await file.Journal.ReserveAsync(ObjectKind.Volume, "deleting", JournalFile.Args())).Id, 1 << 20, imageDurable: false);
        await file.Journal.MarkDeletingAsync(deleting.Id);

        Assert.That(await file.Journal.MarkImageDurableAsync(reserved.Id), Is.False);
        Assert.That(await file.Journal.MarkImageDurableAsync(deleting.Id), Is.False);
        Assert.That(file.Journal.Get(deleting.Id)!.ImageDurable, Is.False);
        Assert.That(await file.Journal.MarkImageDurableAsync(ObjectId.New(ObjectKind.Volume)), Is.False);
        Assert.That(await file.Journal.MarkImageDurableAsync(new ObjectId(ObjectKind.Snapshot, deleting.Id.Uuid)), Is.False);
    }

    [Test]
    public async Task MarkDeleting_FreesTheNameAtOnce_TheRecordStaysAndIsListedNowhere()
    {
        using var file = new JournalFile();
        var created = await file.CreatedAsync("pvc-1");

        await file.Journal.MarkDeletingAsync(created.Id);

        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.Null);
        Assert.That(file.Journal.Get(created.Id)!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(file.Journal.List(ObjectKind.Volume, null, 0).Items, Is.Empty);
        Assert.That(file.Journal.Verify(), Is.Empty, "a record being deleted holds no name");
        var again = await file.CreatedAsync("pvc-1");
        Assert.That(again.Id, Is.Not.EqualTo(created.Id));
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1")!.Id, Is.EqualTo(again.Id));
        Assert.That(file.Journal.Verify(), Is.Empty, "the old record being deleted and the new one are not two claims on the name");
        Assert.That((await file.Journal.MarkDeletingAsync(created.Id))!.State, Is.EqualTo(ReservationState.Deleting), "repeated: no change");
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1")!.Id, Is.EqualTo(again.Id), "a repeat never frees the new name");
    }

    [Test]
    public async Task RemoveDeleted_RemovesOnlyRecordsBeingDeleted_InOneWrite_AndRepeatsHarmlessly()
    {
        using var file = new JournalFile();
        var a = await file.CreatedAsync("a");
        var b = await file.CreatedAsync("b");
        var live = await file.CreatedAsync("live");
        var reserved = await file.Journal.ReserveAsync(ObjectKind.Volume, "reserved", JournalFile.Args());
        await file.Journal.MarkDeletingAsync(a.Id);
        await file.Journal.MarkDeletingAsync(b.Id);

        Assert.That(await file.Journal.RemoveDeletedAsync([a.Id, b.Id, a.Id, live.Id, reserved.Id, ObjectId.New(ObjectKind.Volume)]),
            Is.EqualTo(2));
        Assert.That(await file.Journal.RemoveDeletedAsync([a.Id, b.Id]), Is.Zero);
        Assert.That(await file.Journal.RemoveDeletedAsync([]), Is.Zero);

        Assert.That(file.Journal.Get(a.Id), Is.Null);
        Assert.That(file.Journal.Get(b.Id), Is.Null);
        Assert.That(file.Journal.Get(live.Id)!.State, Is.EqualTo(ReservationState.Created));
        Assert.That(file.Journal.Get(reserved.Id)!.State, Is.EqualTo(ReservationState.Reserved));
        Assert.That(file.Journal.Verify(), Is.Empty);
    }

    [Test]
    public async Task RemoveDeleted_AGroupWithItsMembers_RemovesTheMappingsToo()
    {
        using var file = new JournalFile();
        var volume = await file.CreatedAsync("pvc-1");
        var group = await file.Journal.ReserveAsync(ObjectKind.Group, "group-1", new DefiningArguments());
        var member = await file.Journal.ReserveAsync(ObjectKind.Snapshot, $"{group.Id}/{volume.Id}",
            new DefiningArguments { SourceVolume = volume.Id });
        await file.Journal.AddMembersAsync(group.Id, new Dictionary<string, string> { [volume.Id.ToString()] = member.Id.ToString() });
        await file.Journal.MarkDeletingAsync(group.Id);
        await file.Journal.MarkDeletingAsync(member.Id);

        Assert.That(await file.Journal.RemoveDeletedAsync([member.Id, group.Id]), Is.EqualTo(2));

        Assert.That(file.Journal.Members(group.Id), Is.Empty);
        Assert.That(file.Journal.All(), Has.Count.EqualTo(1));
        Assert.That(file.Journal.Verify(), Is.Empty);
    }

    /// <summary>Schema 5: every record of schema 4 had its image on disk; a delete schema 4 left half done frees its name.</summary>
    [Test]
    public void Migrate_Version4_RecordsAreDurable_AndADeleteLeftHalfDoneFreesItsName()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("journal.db");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Journal", "Fixtures", "journal-v4.db"), path);
        string deleting;
        using (var raw = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            raw.Open();
            using var command = raw.CreateCommand();
            command.CommandText = "UPDATE records SET state = 'deleting' WHERE request_name = 'pvc-fixture-reserved' " +
                                  "RETURNING backend_name";
            deleting = (string)command.ExecuteScalar()!;
        }

        using var journal = Loopvol.Journal.Journal.Open(path);

        Assert.That(journal.All().Select(r => r.ImageDurable), Is.All.True);
        Assert.That(journal.Find(ObjectKind.Volume, "pvc-fixture-reserved"), Is.Null);
        Assert.That(journal.All().Single(r => r.Id.ToString() == deleting).State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(journal.Find(ObjectKind.Volume, "pvc-fixture-1"), Is.Not.Null);
        Assert.That(journal.Verify(), Is.Empty);
    }
}
