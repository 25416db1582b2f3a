using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Journal;

/// <summary>A crash after every internal step of every write leaves a journal that opens, is consistent, and lets a retry finish.</summary>
public sealed class FaultInjectionTests
{
    private static readonly Lazy<List<string>> Points = new(() =>
    {
        using var dir = new TempDirectory();
        var recorder = new CrashImage(Path.Combine(dir.Path, "j.db"), Path.Combine(dir.Path, "unused.db"));
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(dir.Path, "j.db"), new JournalOptions { Faults = recorder });
        Run(journal, new Ids(), 0, _ => { });
        return recorder.Reached;
    });

    /// <summary>
    /// Every kind of write, as the steps of the calls a CO makes. Each step is safe to repeat, and after a crash the
    /// CO repeats the interrupted step and goes on, knowing the IDs the earlier steps returned.
    /// </summary>
    private static readonly Action<Loopvol.Journal.Journal, Ids>[] Steps =
    [
        (j, ids) => ids.Volume = j.Reserve(ObjectKind.Volume, "pvc-1", JournalFile.Args()).Id,
        (j, ids) => j.MarkCreated(ids.Volume, 1 << 20),
        (j, ids) => ids.Snapshot = j.Reserve(ObjectKind.Snapshot, "snap-1",
            new DefiningArguments { SourceVolume = ids.Volume }).Id,
        (j, ids) => j.MarkCreated(ids.Snapshot, 1 << 20),
        (j, ids) => ids.Group = j.Reserve(ObjectKind.Group, "group-1", new DefiningArguments()).Id,
        (j, ids) => j.AddMembers(ids.Group, new Dictionary<string, string> { [ids.Volume.ToString()] = ids.Snapshot.ToString() }),
        (j, ids) => j.MarkCreated(ids.Group, 0),
        (j, ids) => j.SetStage(ids.Volume.ToString(), NodeState.Attached, "/staging", "/dev/loop7"),
        (j, ids) => j.SetStage(ids.Volume.ToString(), NodeState.Mounted, "/staging", "/dev/loop7"),
        (j, ids) => j.AddPublication(ids.Volume.ToString(), new Publication("/target", false, "mount")),
        (j, ids) => j.RemovePublication(ids.Volume.ToString(), "/target"),
        (j, ids) => j.SetStage(ids.Volume.ToString(), NodeState.Attached, "/staging", "/dev/loop7"),
        (j, ids) => j.SetStage(ids.Volume.ToString(), NodeState.Init),
        (j, ids) => j.MarkDeleting(ids.Group),
        (j, ids) => j.Remove(ids.Group),
        (j, ids) => j.MarkDeleting(ids.Snapshot),
        (j, ids) => j.Remove(ids.Snapshot),
        (j, ids) => ids.Failed = j.Reserve(ObjectKind.Volume, "pvc-2", JournalFile.Args()).Id,
        (j, ids) => j.MarkFaulty(ids.Failed),
        (j, ids) => j.UpdateSize(ids.Volume, 2L << 20),
        (j, ids) => ids.Empty = j.Reserve(ObjectKind.Volume, "pvc-3", JournalFile.Args()).Id,
        (j, ids) => j.MarkCreated(ids.Empty, 1 << 20, imageDurable: false),
        (j, ids) => j.MarkImageDurable(ids.Empty),
        (j, ids) => j.MarkDeleting(ids.Empty),
        (j, ids) => j.RemoveDeleted([ids.Empty]),
    ];

    private static IEnumerable<TestCaseData> EveryPoint() =>
        Points.Value.Select((point, i) => new TestCaseData(i).SetName($"Crash_{i:D2}_{point}_IsRecoverable"));

    [Test]
    public void Scenario_ReachesEveryWriteStep() =>
        Assert.That(Points.Value.Select(p => p.Split('.')[0]).Distinct(), Is.SupersetOf(new[]
        {
            "reserve", "mark-created", "mark-faulty", "mark-deleting", "remove", "update-size", "add-members",
            "set-stage", "add-publication", "remove-publication", "mark-image-durable", "remove-deleted",
        }));

    [TestCaseSource(nameof(EveryPoint))]
    public void CrashAtPoint_ImageOpensConsistent_AndRetryingTheCallFinishes(int index)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "j.db");
        var crash = new CrashImage(path, Path.Combine(dir.Path, "image.db"), index);
        var ids = new Ids();
        var interrupted = -1;
        using (var journal = Loopvol.Journal.Journal.Open(path, new JournalOptions { Faults = crash }))
        {
            Assert.Throws<SimulatedCrashException>(() => Run(journal, ids, 0, step => interrupted = step));
        }
        Assert.That(crash.Crashed, Is.True);

        using var recovered = Loopvol.Journal.Journal.Open(crash.ImagePath);
        Assert.That(recovered.Verify(), Is.Empty, "the on-disk state after the crash must be consistent");
        var volumeBefore = recovered.Find(ObjectKind.Volume, "pvc-1")?.Id;

        Run(recovered, ids, interrupted, _ => { });

        Assert.That(recovered.Verify(), Is.Empty);
        var volume = recovered.Find(ObjectKind.Volume, "pvc-1")!;
        Assert.That(volume.State, Is.EqualTo(ReservationState.Created));
        Assert.That(volume.SizeBytes, Is.EqualTo(2L << 20));
        Assert.That(recovered.Find(ObjectKind.Snapshot, "snap-1"), Is.Null);
        Assert.That(recovered.GetNodeVolume(volume.Id.ToString()), Is.Null);
        Assert.That(recovered.All().Where(r => r.RequestName == "pvc-3"), Is.Empty, "the empty volume's delete finished");
        if (volumeBefore is { } id)
        {
            Assert.That(volume.Id, Is.EqualTo(id), "a retry must find the same volume, never make a second one");
        }
    }

    private static void Run(Loopvol.Journal.Journal journal, Ids ids, int from, Action<int> starting)
    {
        for (var step = from; step < Steps.Length; step++)
        {
            starting(step);
            Steps[step](journal, ids);
        }
    }

    private sealed class Ids
    {
        public ObjectId Volume { get; set; }

        public ObjectId Snapshot { get; set; }

        public ObjectId Group { get; set; }

        public ObjectId Failed { get; set; }

        public ObjectId Empty { get; set; }
    }
}
