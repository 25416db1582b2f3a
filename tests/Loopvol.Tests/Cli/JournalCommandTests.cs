using Loopvol.Cli;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

public sealed class JournalCommandTests
{
    [Test]
    public async Task List_ShowsEveryRecordWithStateAndName()
    {
        var (data, ids) = await Seed();
        using var _ = data;

        var (exit, text) = await RunAsync(data, "journal", "list");

        Assert.That(exit, Is.Zero);
        Assert.That(text, Does.Contain(ids.Healthy.ToString()).And.Contain("pvc-healthy").And.Contain("created"));
        Assert.That(text, Does.Contain("5 record(s)"));
        Assert.That(text, Does.Contain("pvc-healthy  (PVC shop/data, PV pvc-42)"), "which PVC the volume is for");
    }

    [Test]
    public async Task Show_ByNameOrId_PrintsTheRecord_UnknownIsExitOne()
    {
        var (data, ids) = await Seed();
        using var _ = data;

        var byName = await RunAsync(data, "journal", "show", "pvc-healthy");
        var byId = await RunAsync(data, "journal", "show", ids.Healthy.ToString());
        var unknown = await RunAsync(data, "journal", "show", "nope");

        Assert.That(byName.Text, Does.Contain($"id:             {ids.Healthy}"));
        Assert.That(byName.Text, Does.Contain("kubernetes:     PVC shop/data, PV pvc-42"));
        Assert.That(byId.Text, Is.EqualTo(byName.Text));
        Assert.That(unknown.Exit, Is.EqualTo(1));
    }

    [Test]
    public async Task Check_FindsStaleFaultyMissingAndOrphans_ExitsOne()
    {
        var (data, ids) = await Seed();
        using var _ = data;

        var (exit, text) = await RunAsync(data, "journal", "check", "--grace", "0");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(text, Does.Contain($"StaleReservation: {ids.Stale}"));
        Assert.That(text, Does.Contain($"FaultyRecord: {ids.Faulty}"));
        Assert.That(text, Does.Contain($"MissingBackend: {ids.Missing}"));
        Assert.That(text, Does.Contain($"OrphanBackend: {ids.Orphan}"));
        Assert.That(text, Does.Not.Contain($"{ids.Healthy}:"));
    }

    [Test]
    public async Task Check_WithinTheGracePeriod_LeavesAFreshReservationAlone()
    {
        var (data, ids) = await Seed();
        using var _ = data;

        var (_, text) = await RunAsync(data, "journal", "check");

        Assert.That(text, Does.Not.Contain(ids.Stale.ToString()));
    }

    [Test]
    public async Task GcDryRun_ChangesNothing_GcApply_RepairsWhatIsSafe_AndReportsTheRest()
    {
        var (data, ids) = await Seed();
        using var _ = data;
        var pool = new PoolLayout(Path.Combine(data.Path, "pool"));

        var dry = await RunAsync(data, "journal", "gc", "--dry-run", "--grace", "0");
        Assert.That(dry.Text, Does.Contain("would repair 3:"));
        Assert.That(File.Exists(pool.ImagePath(ids.Orphan.ToString())), Is.True);

        var apply = await RunAsync(data, "journal", "gc", "--apply", "--grace", "0");
        Assert.That(apply.Text, Does.Contain("repaired 3:").And.Contain("needs an operator (1):"));
        Assert.That(apply.Exit, Is.EqualTo(1));
        Assert.That(File.Exists(pool.ImagePath(ids.Orphan.ToString())), Is.False);
        Assert.That(File.Exists(pool.ImagePath(ids.Healthy.ToString())), Is.True);

        var again = await RunAsync(data, "journal", "check", "--grace", "0");
        Assert.That(again.Text, Does.Contain("MissingBackend").And.Not.Contain("Stale").And.Not.Contain("Orphan"));
    }

    [Test]
    public async Task Gc_WithoutDryRunOrApply_IsAUsageError()
    {
        using var data = (await Seed()).Data;

        var (exit, _) = await RunAsync(data, "journal", "gc");

        Assert.That(exit, Is.EqualTo(2));
    }

    [Test]
    public async Task Backup_WritesACopyThatOpensWithTheSameRecords()
    {
        var (data, ids) = await Seed();
        using var _ = data;
        var copy = Path.Combine(data.Path, "copy.db");

        var (exit, _) = await RunAsync(data, "journal", "backup", copy);

        Assert.That(exit, Is.Zero);
        using var restored = Loopvol.Journal.Journal.Open(copy);
        Assert.That(restored.Get(ids.Healthy)!.RequestName, Is.EqualTo("pvc-healthy"));
    }

    [Test]
    public async Task AnyCommand_WithoutAJournal_ExitsOneAndCreatesNone()
    {
        using var data = new TempDirectory();

        var (exit, text) = await RunAsync(data, "journal", "list");

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(text, Does.Contain("no journal"));
        Assert.That(File.Exists(Path.Combine(data.Path, "journal.db")), Is.False);
    }

    private static async Task<(int Exit, string Text)> RunAsync(TempDirectory data, params string[] args)
    {
        using var output = new StringWriter();
        var exit = await LoopvolCommand.RunAsync([.. args, "--data-dir", data.Path], output, output);
        return (exit, output.ToString());
    }

    /// <summary>A data directory with one record of each condition check knows, and images to match.</summary>
    private static async Task<(TempDirectory Data, (ObjectId Healthy, ObjectId Stale, ObjectId Faulty, ObjectId Missing, ObjectId Orphan) Ids)> Seed()
    {
        var data = new TempDirectory();
        var pool = new PoolLayout(Path.Combine(data.Path, "pool"));
        Directory.CreateDirectory(pool.Directory);
        using var j = Loopvol.Journal.Journal.Open(Path.Combine(data.Path, "journal.db"));
        var args = new DefiningArguments { RequiredBytes = 1 << 20 };
        var healthy = (await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "pvc-healthy", args)).Id, 1 << 20)).Id;
        File.WriteAllBytes(pool.ImagePath(healthy.ToString()), []);
        await j.SetKubernetesNamesAsync(healthy, new Dictionary<string, string>
        {
            ["csi.storage.k8s.io/pvc/name"] = "data", ["csi.storage.k8s.io/pvc/namespace"] = "shop",
            ["csi.storage.k8s.io/pv/name"] = "pvc-42",
        });
        var stale = (await j.ReserveAsync(ObjectKind.Volume, "pvc-stale", args)).Id;
        var faulty = (await j.ReserveAsync(ObjectKind.Volume, "pvc-faulty", args)).Id;
        await j.MarkFaultyAsync(faulty);
        var missing = (await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Volume, "pvc-missing", args)).Id, 1 << 20)).Id;
        await j.MarkCreatedAsync((await j.ReserveAsync(ObjectKind.Group, "group-1", new DefiningArguments())).Id, 0);
        var orphan = ObjectId.New(ObjectKind.Snapshot);
        File.WriteAllBytes(pool.ImagePath(orphan.ToString()), []);
        File.WriteAllBytes(Path.Combine(pool.Directory, "not-ours.txt"), []);
        return (data, (healthy, stale, faulty, missing, orphan));
    }
}
