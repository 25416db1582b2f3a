using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Journal;

/// <summary>
/// Group commit on a real journal file: the writer is held inside one write (a gate at its fault point) while
/// others queue, so what goes into each transaction is known exactly.
/// </summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Test]
    public async Task WritesQueuedBehindACommit_AreCommittedTogether_InOneTransactionAndOneSync()
    {
        var gate = new Gate("reserve.before-commit");
        using var file = new JournalFile(new JournalOptions { Faults = gate });
        var journal = file.Journal;
        var before = journal.CommitCounts;

        var first = journal.ReserveAsync(ObjectKind.Volume, "pvc-first", JournalFile.Args());
        Assert.That(await gate.WaitEnteredAsync(Wait), Is.True, "the writer is inside the first write");
        var queued = Enumerable.Range(0, 10)
            .Select(i => journal.ReserveAsync(ObjectKind.Snapshot, $"snap-{i}", new DefiningArguments())).ToList();
        await Task.Delay(50);
        Assert.That(queued.Any(t => t.IsCompleted), Is.False, "nothing commits while the writer is held");
        gate.Open();
        await first;
        var reservations = await Task.WhenAll(queued);

        var after = journal.CommitCounts;
        Assert.That(after.Commits - before.Commits, Is.EqualTo(2), "the held write, then the ten queued behind it");
        Assert.That(after.Writes - before.Writes, Is.EqualTo(11));
        Assert.That(after.Syncs - before.Syncs, Is.EqualTo(2), "one log sync per transaction, not per write");
        Assert.That(reservations.Select(r => journal.Get(r.Id)?.State), Is.All.EqualTo(ReservationState.Reserved));
        Assert.That(journal.Verify(), Is.Empty);
    }

    [Test]
    public async Task OneFailingWriteInABatch_IsUndoneAlone_TheOthersCommit()
    {
        var gate = new Gate("update-size.before-commit");
        using var file = new JournalFile(new JournalOptions { Faults = gate });
        var journal = file.Journal;
        var taken = await file.CreatedAsync("pvc-taken");

        var held = journal.UpdateSizeAsync(taken.Id, 4 << 20);
        Assert.That(await gate.WaitEnteredAsync(Wait), Is.True);
        var good = journal.ReserveAsync(ObjectKind.Volume, "pvc-good", JournalFile.Args());
        var conflicting = journal.ReserveAsync(ObjectKind.Volume, "pvc-taken", JournalFile.Args(2 << 20));
        var unknown = journal.MarkCreatedAsync(ObjectId.New(ObjectKind.Volume), 1);
        var alsoGood = journal.ReserveAsync(ObjectKind.Snapshot, "snap-good", new DefiningArguments());
        gate.Open();

        Assert.That((await held).SizeBytes, Is.EqualTo(4 << 20));
        Assert.That((await good).State, Is.EqualTo(ReservationState.Reserved));
        Assert.ThrowsAsync<AlreadyExistsException>(() => conflicting);
        Assert.ThrowsAsync<NotFoundException>(() => unknown);
        Assert.That((await alsoGood).State, Is.EqualTo(ReservationState.Reserved));
        Assert.That(journal.Find(ObjectKind.Volume, "pvc-good"), Is.Not.Null);
        Assert.That(journal.Find(ObjectKind.Volume, "pvc-taken")!.Id, Is.EqualTo(taken.Id), "the conflict changed nothing");
        Assert.That(journal.CommitCounts.Writes, Is.EqualTo(5), "two writes made pvc-taken, the held one, then two good");
        Assert.That(journal.Verify(), Is.Empty);
    }

    [Test]
    public async Task DeferredWrites_CommitWithoutASync_ADurableOneSyncsTheLog()
    {
        using var file = new JournalFile();
        var journal = file.Journal;
        var before = journal.CommitCounts;

        var deferred = await journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args(), Durability.Deferred);
        var afterDeferred = journal.CommitCounts;
        Assert.That(afterDeferred.Commits - before.Commits, Is.EqualTo(1));
        Assert.That(afterDeferred.Syncs - before.Syncs, Is.Zero, "a deferred write does not sync the log");
        Assert.That(journal.Get(deferred.Id)?.State, Is.EqualTo(ReservationState.Reserved), "and is seen at once");

        await journal.MarkCreatedAsync(deferred.Id, 1 << 20);
        Assert.That(journal.CommitCounts.Syncs - afterDeferred.Syncs, Is.EqualTo(1));

        Assert.That(file.Reopen().Get(deferred.Id)?.State, Is.EqualTo(ReservationState.Created));
    }

    [Test]
    public async Task Reads_DoNotWaitForACommit_AndSeeOnlyWhatIsCommitted()
    {
        var gate = new Gate("mark-created.before-commit");
        using var file = new JournalFile(new JournalOptions { Faults = gate });
        var journal = file.Journal;
        var reserved = await journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        var creating = journal.MarkCreatedAsync(reserved.Id, 1 << 20);
        Assert.That(await gate.WaitEnteredAsync(Wait), Is.True, "the writer holds an open transaction");
        var read = Task.Run(() => journal.Get(reserved.Id));
        var finished = await Task.WhenAny(read, Task.Delay(Wait)) == read;
        gate.Open();
        await creating;

        Assert.That(finished, Is.True, "a read beside an open write transaction answers at once");
        Assert.That((await read)?.State, Is.EqualTo(ReservationState.Reserved), "the uncommitted change is not seen");
        Assert.That(journal.Get(reserved.Id)?.State, Is.EqualTo(ReservationState.Created));
    }

    [Test]
    public async Task Dispose_CommitsWhatIsQueued_AndLaterWritesAreRefused()
    {
        var gate = new Gate("reserve.before-commit");
        var file = new JournalFile(new JournalOptions { Faults = gate });
        var first = file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());
        Assert.That(await gate.WaitEnteredAsync(Wait), Is.True);
        var queued = file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-2", JournalFile.Args());
        var closing = Task.Run(() => file.Journal.Dispose());
        gate.Open();
        await closing;

        Assert.That((await first).Id, Is.Not.EqualTo((await queued).Id));
        Assert.Throws<ObjectDisposedException>(() => file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-3", JournalFile.Args()));
        using var reopened = Loopvol.Journal.Journal.Open(file.Path);
        Assert.That(reopened.Find(ObjectKind.Volume, "pvc-2"), Is.Not.Null);
        file.Dispose();
    }
}
