using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class ReservationTests
{
    [Test]
    public async Task Reserve_NewName_GivesAReservedRecordWithBackPointerAndPrefixedId()
    {
        using var file = new JournalFile();

        var r = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(r.State, Is.EqualTo(ReservationState.Reserved));
        Assert.That(r.RequestName, Is.EqualTo("pvc-1"));
        Assert.That(r.Id.ToString(), Does.StartWith("vol-").And.Length.EqualTo(40));
        Assert.That(r.BackendName, Is.EqualTo(r.Id.ToString()));
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.EqualTo(r));
    }

    [Test]
    public async Task Reserve_Repeated_ReturnsTheSameReservation()
    {
        using var file = new JournalFile();

        var first = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());
        var second = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(second.Id, Is.EqualTo(first.Id));
    }

    [Test]
    public async Task Reserve_SameNameOtherArguments_IsAlreadyExistsNamingTheDifference()
    {
        using var file = new JournalFile();
        await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes: 1 << 20));

        var error = Assert.ThrowsAsync<AlreadyExistsException>(() =>
            file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes: 2 << 20)));

        Assert.That(error!.Message, Does.Contain("capacity range"));
    }

    [Test]
    public async Task Reserve_SameNameOtherKind_IsIndependent()
    {
        using var file = new JournalFile();

        var volume = await file.Journal.ReserveAsync(ObjectKind.Volume, "same", JournalFile.Args());
        var snapshot = await file.Journal.ReserveAsync(ObjectKind.Snapshot, "same", JournalFile.Args());

        Assert.That(snapshot.Id.Uuid, Is.Not.EqualTo(volume.Id.Uuid));
        Assert.That(snapshot.Id.ToString(), Does.StartWith("snap-"));
    }

    [Test]
    public async Task Check_FreeName_IsFree()
    {
        using var file = new JournalFile();

        Assert.That(await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-x", JournalFile.Args(), _ => true),
            Is.InstanceOf<CheckResult.Free>());
    }

    [Test]
    public async Task Check_EqualArguments_FindsTheReservation()
    {
        using var file = new JournalFile();
        var created = await file.CreatedAsync("pvc-1");

        var result = await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => true);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(created)));
    }

    [TestCase(2L << 20, "ext4", "capacity range")]
    [TestCase(1L << 20, "xfs", "parameters")]
    public async Task Check_OtherArguments_IsAConflictNamingWhatDiffers(long bytes, string fs, string what)
    {
        using var file = new JournalFile();
        await file.CreatedAsync("pvc-1");

        var result = await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes, fs), _ => true);

        Assert.That(result, Is.InstanceOf<CheckResult.Conflict>());
        Assert.That(((CheckResult.Conflict)result).Difference, Does.Contain(what));
    }

    [Test]
    public async Task Check_ReservedWithoutBackend_IsStaleAndUndone_ThenTheNameIsFree()
    {
        using var file = new JournalFile();
        var stale = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var result = await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => false);

        Assert.That(result, Is.InstanceOf<CheckResult.Free>());
        Assert.That(file.Journal.Get(stale.Id), Is.Null);
        Assert.That(file.Journal.Verify(), Is.Empty);
    }

    [Test]
    public async Task Check_ReservedWithBackend_IsFound_SoTheCallerCanFinishIt()
    {
        using var file = new JournalFile();
        var reserved = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var result = await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => true);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(reserved)));
    }

    [Test]
    public async Task Check_CreatedWithoutBackend_IsNotSilentlyUndone()
    {
        using var file = new JournalFile();
        var created = await file.CreatedAsync("pvc-1");

        var result = await file.Journal.CheckAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => false);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(created)));
    }

    [Test]
    public async Task MarkCreated_Repeated_NoChange_AndSizeKept()
    {
        using var file = new JournalFile();
        var r = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var first = await file.Journal.MarkCreatedAsync(r.Id, 4096);
        var second = await file.Journal.MarkCreatedAsync(r.Id, 8192);

        Assert.That(second, Is.EqualTo(first));
        Assert.That(second.SizeBytes, Is.EqualTo(4096));
    }

    [Test]
    public void MarkCreated_UnknownId_IsNotFound()
    {
        using var file = new JournalFile();

        Assert.ThrowsAsync<NotFoundException>(() => file.Journal.MarkCreatedAsync(ObjectId.New(ObjectKind.Volume), 1));
    }

    [Test]
    public async Task MarkFaulty_FreesTheName_KeepsTheRecord_AndARetryGetsANewId()
    {
        using var file = new JournalFile();
        var failed = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        await file.Journal.MarkFaultyAsync(failed.Id);
        await file.Journal.MarkFaultyAsync(failed.Id);
        var retry = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(retry.Id, Is.Not.EqualTo(failed.Id));
        Assert.That(file.Journal.Get(failed.Id)!.State, Is.EqualTo(ReservationState.Faulty));
        Assert.That(file.Journal.Verify(), Is.Empty);
        Assert.ThrowsAsync<PreconditionFailedException>(() => file.Journal.MarkCreatedAsync(failed.Id, 1));
    }

    [Test]
    public async Task MarkDeleting_ThenRemove_FreesTheName_RepeatsAreHarmless()
    {
        using var file = new JournalFile();
        var created = await file.CreatedAsync("pvc-1");

        Assert.That((await file.Journal.MarkDeletingAsync(created.Id))!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That((await file.Journal.MarkDeletingAsync(created.Id))!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(await file.Journal.RemoveAsync(created.Id), Is.True);
        Assert.That(await file.Journal.RemoveAsync(created.Id), Is.False);
        Assert.That(await file.Journal.MarkDeletingAsync(created.Id), Is.Null);
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.Null);
    }

    [Test]
    public async Task Get_IdOfAnotherKind_IsUnknown()
    {
        using var file = new JournalFile();
        var volume = await file.CreatedAsync("pvc-1");

        Assert.That(file.Journal.Get(new ObjectId(ObjectKind.Snapshot, volume.Id.Uuid)), Is.Null);
    }

    [Test]
    public async Task Reopen_KeepsEveryCommittedReservation()
    {
        using var file = new JournalFile();
        var ids = await file.CreatedIdsAsync(20, "pvc-");

        var reopened = file.Reopen();

        Assert.That(ids.Select(id => reopened.Get(id)?.State), Is.All.EqualTo(ReservationState.Created));
    }
}
