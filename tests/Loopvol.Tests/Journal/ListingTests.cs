using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class ListingTests
{
    [Test]
    public async Task List_PagesThroughEveryCreatedObjectOnce_InCreationOrder()
    {
        using var file = new JournalFile();
        var ids = await file.CreatedIdsAsync(25, "pvc-");
        await file.Journal.ReserveAsync(ObjectKind.Volume, "still-reserved", JournalFile.Args());

        var seen = new List<ObjectId>();
        var token = "";
        do
        {
            var page = file.Journal.List(ObjectKind.Volume, token, 10);
            Assert.That(page.Items, Has.Count.LessThanOrEqualTo(10));
            seen.AddRange(page.Items.Select(r => r.Id));
            token = page.NextToken;
        }
        while (token.Length > 0);

        Assert.That(seen, Is.EqualTo(ids), "reserved objects are not listed; created ones each once");
    }

    [Test]
    public async Task List_ObjectsDeletedAndAddedBetweenPages_NothingListedTwiceNothingSkipped()
    {
        using var file = new JournalFile();
        var ids = await file.CreatedIdsAsync(6, "pvc-");

        var first = file.Journal.List(ObjectKind.Volume, null, 3);
        await file.Journal.RemoveAsync(first.Items[^1].Id); // The last one of the page, whose position is the token.
        await file.Journal.RemoveAsync(ids[4]);
        var added = (await file.CreatedAsync("pvc-new")).Id;
        var second = file.Journal.List(ObjectKind.Volume, first.NextToken, 0);

        Assert.That(second.Items.Select(r => r.Id), Is.EqualTo(new[] { ids[3], ids[5], added }));
        Assert.That(second.NextToken, Is.Empty);
    }

    [TestCase("invalid-token")]
    [TestCase("-5")]
    [TestCase("0")]
    [TestCase("99999999999999999999999")]
    public void List_TokenNotIssuedByTheJournal_IsStaleToken(string token)
    {
        using var file = new JournalFile();

        Assert.Throws<StaleTokenException>(() => file.Journal.List(ObjectKind.Volume, token, 1));
    }

    [Test]
    public async Task List_FiltersBySourceVolumeAndById()
    {
        using var file = new JournalFile();
        var (volumeA, volumeB) = (ObjectId.New(ObjectKind.Volume), ObjectId.New(ObjectKind.Volume));
        var args = new DefiningArguments { SourceVolume = volumeA };
        var a1 = (await file.Journal.MarkCreatedAsync((await file.Journal.ReserveAsync(ObjectKind.Snapshot, "s1", args)).Id, 1)).Id;
        await file.Journal.MarkCreatedAsync((await file.Journal.ReserveAsync(ObjectKind.Snapshot, "s2", new DefiningArguments { SourceVolume = volumeB })).Id, 1);
        var a3 = (await file.Journal.MarkCreatedAsync((await file.Journal.ReserveAsync(ObjectKind.Snapshot, "s3", args)).Id, 1)).Id;

        var bySource = file.Journal.List(ObjectKind.Snapshot, null, 0, new ListFilter { SourceVolume = volumeA.ToString() });
        var byId = file.Journal.List(ObjectKind.Snapshot, null, 0, new ListFilter { Id = a3 });
        var none = file.Journal.List(ObjectKind.Snapshot, null, 0, new ListFilter { SourceVolume = "vol-zzz" });

        Assert.That(bySource.Items.Select(r => r.Id), Is.EqualTo(new[] { a1, a3 }));
        Assert.That(byId.Items.Select(r => r.Id), Is.EqualTo(new[] { a3 }));
        Assert.That(none.Items, Is.Empty);
    }
}
