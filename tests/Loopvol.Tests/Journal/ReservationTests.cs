using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class ReservationTests
{
    [Test]
    public void Reserve_NewName_GivesAReservedRecordWithBackPointerAndPrefixedId()
    {
        using var file = new JournalFile();

        var r = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(r.State, Is.EqualTo(ReservationState.Reserved));
        Assert.That(r.RequestName, Is.EqualTo("pvc-1"));
        Assert.That(r.Id.ToString(), Does.StartWith("vol-").And.Length.EqualTo(40));
        Assert.That(r.BackendName, Is.EqualTo(r.Id.ToString()));
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.EqualTo(r));
    }

    [Test]
    public void Reserve_Repeated_ReturnsTheSameReservation()
    {
        using var file = new JournalFile();

        var first = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());
        var second = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(second.Id, Is.EqualTo(first.Id));
    }

    [Test]
    public void Reserve_SameNameOtherArguments_IsAlreadyExistsNamingTheDifference()
    {
        using var file = new JournalFile();
        file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes: 1 << 20));

        var error = Assert.Throws<AlreadyExistsException>(() =>
            file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes: 2 << 20)));

        Assert.That(error!.Message, Does.Contain("capacity range"));
    }

    [Test]
    public void Reserve_SameNameOtherKind_IsIndependent()
    {
        using var file = new JournalFile();

        var volume = file.Journal.Reserve(ObjectKind.Volume, "same", JournalFile.Args());
        var snapshot = file.Journal.Reserve(ObjectKind.Snapshot, "same", JournalFile.Args());

        Assert.That(snapshot.Id.Uuid, Is.Not.EqualTo(volume.Id.Uuid));
        Assert.That(snapshot.Id.ToString(), Does.StartWith("snap-"));
    }

    [Test]
    public void Check_FreeName_IsFree()
    {
        using var file = new JournalFile();

        Assert.That(file.Journal.Check(ObjectKind.Volume, "pvc-x", JournalFile.Args(), _ => true),
            Is.InstanceOf<CheckResult.Free>());
    }

    [Test]
    public void Check_EqualArguments_FindsTheReservation()
    {
        using var file = new JournalFile();
        var created = file.Created("pvc-1");

        var result = file.Journal.Check(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => true);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(created)));
    }

    [TestCase(2L << 20, "ext4", "capacity range")]
    [TestCase(1L << 20, "xfs", "parameters")]
    public void Check_OtherArguments_IsAConflictNamingWhatDiffers(long bytes, string fs, string what)
    {
        using var file = new JournalFile();
        file.Created("pvc-1");

        var result = file.Journal.Check(ObjectKind.Volume, "pvc-1", JournalFile.Args(bytes, fs), _ => true);

        Assert.That(result, Is.InstanceOf<CheckResult.Conflict>());
        Assert.That(((CheckResult.Conflict)result).Difference, Does.Contain(what));
    }

    [Test]
    public void Check_ReservedWithoutBackend_IsStaleAndUndone_ThenTheNameIsFree()
    {
        using var file = new JournalFile();
        var stale = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var result = file.Journal.Check(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => false);

        Assert.That(result, Is.InstanceOf<CheckResult.Free>());
        Assert.That(file.Journal.Get(stale.Id), Is.Null);
        Assert.That(file.Journal.Verify(), Is.Empty);
    }

    [Test]
    public void Check_ReservedWithBackend_IsFound_SoTheCallerCanFinishIt()
    {
        using var file = new JournalFile();
        var reserved = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var result = file.Journal.Check(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => true);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(reserved)));
    }

    [Test]
    public void Check_CreatedWithoutBackend_IsNotSilentlyUndone()
    {
        using var file = new JournalFile();
        var created = file.Created("pvc-1");

        var result = file.Journal.Check(ObjectKind.Volume, "pvc-1", JournalFile.Args(), _ => false);

        Assert.That(result, Is.EqualTo(new CheckResult.Found(created)));
    }

    [Test]
    public void MarkCreated_Repeated_NoChange_AndSizeKept()
    {
        using var file = new JournalFile();
        var r = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var first = file.Journal.MarkCreated(r.Id, 4096);
        var second = file.Journal.MarkCreated(r.Id, 8192);

        Assert.That(second, Is.EqualTo(first));
        Assert.That(second.SizeBytes, Is.EqualTo(4096));
    }

    [Test]
    public void MarkCreated_UnknownId_IsNotFound()
    {
        using var file = new JournalFile();

        Assert.Throws<NotFoundException>(() => file.Journal.MarkCreated(ObjectId.New(ObjectKind.Volume), 1));
    }

    [Test]
    public void MarkFaulty_FreesTheName_KeepsTheRecord_AndARetryGetsANewId()
    {
        using var file = new JournalFile();
        var failed = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        file.Journal.MarkFaulty(failed.Id);
        file.Journal.MarkFaulty(failed.Id);
        var retry = file.Journal.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        Assert.That(retry.Id, Is.Not.EqualTo(failed.Id));
        Assert.That(file.Journal.Get(failed.Id)!.State, Is.EqualTo(ReservationState.Faulty));
        Assert.That(file.Journal.Verify(), Is.Empty);
        Assert.Throws<PreconditionFailedException>(() => file.Journal.MarkCreated(failed.Id, 1));
    }

    [Test]
    public void MarkDeleting_ThenRemove_FreesTheName_RepeatsAreHarmless()
    {
        using var file = new JournalFile();
        var created = file.Created("pvc-1");

        Assert.That(file.Journal.MarkDeleting(created.Id)!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(file.Journal.MarkDeleting(created.Id)!.State, Is.EqualTo(ReservationState.Deleting));
        Assert.That(file.Journal.Remove(created.Id), Is.True);
        Assert.That(file.Journal.Remove(created.Id), Is.False);
        Assert.That(file.Journal.MarkDeleting(created.Id), Is.Null);
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.Null);
    }

    [Test]
    public void Get_IdOfAnotherKind_IsUnknown()
    {
        using var file = new JournalFile();
        var volume = file.Created("pvc-1");

        Assert.That(file.Journal.Get(new ObjectId(ObjectKind.Snapshot, volume.Id.Uuid)), Is.Null);
    }

    [Test]
    public void Reopen_KeepsEveryCommittedReservation()
    {
        using var file = new JournalFile();
        var ids = Enumerable.Range(0, 20).Select(i => file.Created($"pvc-{i}").Id).ToList();

        var reopened = file.Reopen();

        Assert.That(ids.Select(id => reopened.Get(id)?.State), Is.All.EqualTo(ReservationState.Created));
    }
}
