using System.Collections.Concurrent;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Tests.Journal;

public sealed class ConcurrencyTests
{
    [Test]
    public async Task SixtyFourCallersSixteenNames_ExactlySixteenIds_EveryOtherCallBusyOrTheSameId()
    {
        using var file = new JournalFile();
        var journal = file.Journal;
        var answers = new ConcurrentBag<(string Name, ObjectId? Id)>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var callers = Enumerable.Range(0, 64).Select(t => Task.Run(async () =>
        {
            await start.Task;
            for (var round = 0; round < 8; round++)
            {
                var name = $"pvc-{(t + round) % 16}";
                try
                {
                    using var _ = journal.Locks.Acquire($"volume-name:{name}");
                    var id = await journal.CheckAsync(ObjectKind.Volume, name, JournalFile.Args(), _ => true) switch
                    {
                        CheckResult.Found found => found.Reservation.Id,
                        _ => (await journal.ReserveAsync(ObjectKind.Volume, name, JournalFile.Args())).Id,
                    };
                    await journal.MarkCreatedAsync(id, 1 << 20);
                    answers.Add((name, id));
                }
                catch (BusyException)
                {
                    answers.Add((name, null));
                }
            }
        })).ToList();
        start.SetResult();
        await Task.WhenAll(callers);

        var ids = answers.Where(a => a.Id is not null).GroupBy(a => a.Name)
            .ToDictionary(g => g.Key, g => g.Select(a => a.Id).Distinct().Count());
        Assert.That(answers, Has.Count.EqualTo(64 * 8));
        Assert.That(ids.Values, Is.All.EqualTo(1), "every name maps to one ID, whoever asked");
        Assert.That(journal.Count(ObjectKind.Volume)[ReservationState.Created], Is.EqualTo(16));
        Assert.That(journal.Verify(), Is.Empty);
    }

    [Test]
    public void Locks_SecondHolderIsBusy_UntilTheFirstReleases()
    {
        using var file = new JournalFile();
        var first = file.Journal.Locks.Acquire("vol-1");

        Assert.Throws<BusyException>(() => file.Journal.Locks.Acquire("vol-2", "vol-1"));
        Assert.That(file.Journal.Locks.IsHeld("vol-2"), Is.False, "a failed multi-key acquire takes nothing");
        first.Dispose();
        using var second = file.Journal.Locks.Acquire("vol-1");
        Assert.That(file.Journal.Locks.IsHeld("vol-1"), Is.True);
    }
}
