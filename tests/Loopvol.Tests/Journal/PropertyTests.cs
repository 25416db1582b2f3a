using FsCheck;
using FsCheck.Fluent;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Journal;

/// <summary>
/// Random interleavings of reserve, check, create, fail, delete and undo across a few names, with crashes
/// (a write killed half way, then the file reopened) and plain restarts between steps. After every step the
/// directory and the records agree, and a name never maps to two IDs while it is held.
/// </summary>
public sealed class PropertyTests
{
    private enum Op
    {
        Reserve,
        CreateBackend,
        MarkCreated,
        Fail,
        Delete,
        CheckStale,
        Restart,
        CrashDuringReserve,
    }

    [Test]
    public void RandomInterleavingsWithCrashes_NeverBreakTheDirectory()
    {
        var step = from op in Gen.Elements(Enum.GetValues<Op>())
                   from name in Gen.Choose(0, 4)
                   from variant in Gen.Choose(0, 1)
                   select (op, name, variant);
        var program = Gen.ListOf(step).Select(l => l.ToArray()).ToArbitrary();

        Prop.ForAll(program, p => Holds(p)).Check(Config.QuickThrowOnFailure.WithMaxTest(150));
    }

    private static async Task<bool> Holds((Op Op, int Name, int Variant)[] program)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("j.db");
        var faults = new SwitchableFault();
        var journal = Loopvol.Journal.Journal.Open(path, new JournalOptions { Faults = faults });
        var backends = new HashSet<ObjectId>();
        var held = new Dictionary<string, ObjectId>(); // name -> the ID that name was seen created with
        try
        {
            foreach (var (op, n, variant) in program)
            {
                var name = $"pvc-{n}";
                var args = JournalFile.Args(bytes: (variant + 1) << 20);
                var found = journal.Find(ObjectKind.Volume, name);
                switch (op)
                {
                    case Op.Reserve when await journal.CheckAsync(ObjectKind.Volume, name, args, r => backends.Contains(r.Id))
                        is CheckResult.Free:
                        await journal.ReserveAsync(ObjectKind.Volume, name, args);
                        break;
                    case Op.CreateBackend when found is { State: ReservationState.Reserved }:
                        backends.Add(found.Id);
                        break;
                    case Op.MarkCreated when found is { State: ReservationState.Reserved } && backends.Contains(found.Id):
                        await journal.MarkCreatedAsync(found.Id, 1 << 20);
                        break;
                    case Op.Fail when found is { State: ReservationState.Reserved }:
                        await journal.MarkFaultyAsync(found.Id);
                        break;
                    case Op.Delete when found is not null:
                        await journal.MarkDeletingAsync(found.Id);
                        backends.Remove(found.Id);
                        await journal.RemoveAsync(found.Id);
                        held.Remove(name);
                        break;
                    case Op.CheckStale:
                        await journal.CheckAsync(ObjectKind.Volume, name, found?.Arguments ?? args, r => backends.Contains(r.Id));
                        break;
                    case Op.Restart:
                        journal.Dispose();
                        journal = Loopvol.Journal.Journal.Open(path, new JournalOptions { Faults = faults });
                        break;
                    case Op.CrashDuringReserve when found is null:
                        faults.FailAt = variant == 0 ? "reserve.after-record" : "reserve.before-commit";
                        try
                        {
                            await journal.ReserveAsync(ObjectKind.Volume, name, args);
                        }
                        catch (SimulatedCrashException)
                        {
                        }
                        faults.FailAt = null;
                        journal.Dispose();
                        journal = Loopvol.Journal.Journal.Open(path, new JournalOptions { Faults = faults });
                        break;
                }
                if (journal.Verify().Count != 0)
                {
                    return false;
                }
                if (journal.Find(ObjectKind.Volume, name) is { State: ReservationState.Created } now)
                {
                    if (held.TryGetValue(name, out var before) && before != now.Id)
                    {
                        return false; // One name, two IDs while held.
                    }
                    held[name] = now.Id;
                }
            }
            return true;
        }
        finally
        {
            journal.Dispose();
        }
    }

    private sealed class SwitchableFault : IFaultInjector
    {
        public string? FailAt { get; set; }

        public void Reached(string point)
        {
            if (point == FailAt)
            {
                throw new SimulatedCrashException(point);
            }
        }
    }
}
