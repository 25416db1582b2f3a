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
        Run(journal, new Ids(), 0, _ => { }).GetAwaiter().GetResult();
        return recorder.Reached;
    });

    /// <summary>
    /// Every kind of write, as the steps of the calls a CO makes. Each step is safe to repeat, and after a crash the
    /// CO repeats the interrupted step and goes on, knowing the IDs the earlier steps returned.
    /// </summary>
    private static readonly Func<Loopvol.Journal.Journal, Ids, Task>[] Steps =
    [
        async (j, ids) => ids.Volume = (await j.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args())).Id,
        (j, ids) => j.MarkCreatedAsync(ids.Volume, 1 << 20),
        async (j, ids) => ids.Snapshot = (await j.ReserveAsync(ObjectKind.Snapshot, "snap-1",
            new DefiningArguments { SourceVolume = ids.Volume })).Id,
        (j, ids) => j.MarkCreatedAsync(ids.Snapshot, 1 << 20),
        async (j, ids) => ids.Group = (await j.ReserveAsync(ObjectKind.Group, "group-1", new DefiningArguments())).Id,
        (j, ids) => j.AddMembersAsync(ids.Group, new Dictionary<string, string> { [ids.Volume.ToString()] = ids.Snapshot.ToString() }),
        (j, ids) => j.MarkCreatedAsync(ids.Group, 0),
        (j, ids) => j.SetStageAsync(ids.Volume.ToString(), NodeState.Attached, "/staging", "/dev/loop7"),
        (j, ids) => j.SetStageAsync(ids.Volume.ToString(), NodeState.Mounted, "/staging", "/dev/loop7"),
        (j, ids) => j.AddPublicationAsync(ids.Volume.ToString(), new Publication("/target", false, "mount")),
        (j, ids) => j.RemovePublicationAsync(ids.Volume.ToString(), "/target"),
        (j, ids) => j.SetStageAsync(ids.Volume.ToString(), NodeState.Attached, "/staging", "/dev/loop7"),
        (j, ids) => j.SetStageAsync(ids.Volume.ToString(), NodeState.Init),
        (j, ids) => j.MarkDeletingAsync(ids.Group),
        (j, ids) => j.RemoveAsync(ids.Group),
        (j, ids) => j.MarkDeletingAsync(ids.Snapshot),
        (j, ids) => j.RemoveAsync(ids.Snapshot),
        async (j, ids) => ids.Failed = (await j.ReserveAsync(ObjectKind.Volume, "pvc-2", JournalFile.Args())).Id,
        (j, ids) => j.MarkFaultyAsync(ids.Failed),
        (j, ids) => j.UpdateSizeAsync(ids.Volume, 2L << 20),
        async (j, ids) => ids.Empty = (await j.ReserveAsync(ObjectKind.Volume, "pvc-3", JournalFile.Args())).Id,
        (j, ids) => j.MarkCreatedAsync(ids.Empty, 1 << 20, imageDurable: false),
        (j, ids) => j.MarkImageDurableAsync(ids.Empty),
        (j, ids) => j.MarkDeletingAsync(ids.Empty),
        (j, ids) => j.RemoveDeletedAsync([ids.Empty]),
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
    public async Task CrashAtPoint_ImageOpensConsistent_AndRetryingTheCallFinishes(int index)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "j.db");
        var crash = new CrashImage(path, Path.Combine(dir.Path, "image.db"), index);
        var ids = new Ids();
        var interrupted = -1;
        using (var journal = Loopvol.Journal.Journal.Open(path, new JournalOptions { Faults = crash }))
        {
            Assert.ThrowsAsync<SimulatedCrashException>(() => Run(journal, ids, 0, step => interrupted = step));
        }
        Assert.That(crash.Crashed, Is.True);

        using var recovered = Loopvol.Journal.Journal.Open(crash.ImagePath);
        Assert.That(recovered.Verify(), Is.Empty, "the on-disk state after the crash must be consistent");
        var volumeBefore = recovered.Find(ObjectKind.Volume, "pvc-1")?.Id;

        await Run(recovered, ids, interrupted, _ => { });

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

    private static async Task Run(Loopvol.Journal.Journal journal, Ids ids, int from, Action<int> starting)
    {
        for (var step = from; step < Steps.Length; step++)
        {
            starting(step);
            await Steps[step](journal, ids);
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
