using System.Security.Cryptography;
using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary>
/// The journal is never silently replaced, and <c>journal rebuild</c> makes it again from the pool alone: through
/// the real executable, on a pool populated by the real driver.
/// </summary>
public sealed class JournalRebuildTests
{
    [Test]
    public async Task JournalDeleted_DriverRefusesNamingRebuild_RebuildRecoversEveryRecord_RetriesKeepTheirIds()
    {
        using var scenario = new PoolScenario();
        await scenario.PopulateAsync();
        var before = scenario.Records();
        var listed = (await scenario.RunAsync("journal", "list")).Text;
        DeleteJournal(scenario);

        var refused = await scenario.StartExpectingRefusalAsync();

        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.Text);
        Assert.That(refused.Text, Does.Contain("is missing").And.Contain("journal rebuild").And.Contain("holds 7 image(s)"));
        Assert.That(File.Exists(scenario.JournalPath), Is.False, "a refused start creates no journal");

        var rebuilt = await scenario.RunAsync("journal", "rebuild");

        Assert.That(rebuilt.Exit, Is.Zero, rebuilt.Text);
        Assert.That(rebuilt.Text, Does.Contain("4 volume(s), 3 snapshot(s), 1 group snapshot(s)"));
        Assert.That(scenario.Records(), Is.EqualTo(before), "IDs, names, states, sizes, creation times, arguments, groups");
        Assert.That(Lines((await scenario.RunAsync("journal", "list")).Text), Is.EqualTo(Lines(listed)));
        Assert.That((await scenario.RunAsync("journal", "check", "--grace", "0")).Exit, Is.Zero);

        await using var driver = await DriverProcess.StartAsync(scenario.Data);
        using var client = new CsiClient(driver.Endpoint);
        var retry = await PoolScenario.Controller<CreateVolumeResponse>(client, "CreateVolume", PoolScenario.VolumeARequest());
        var restored = await PoolScenario.Controller<CreateVolumeResponse>(client, "CreateVolume",
            PoolScenario.RestoredRequest(scenario.Snapshot));
        var snapshot = await PoolScenario.Controller<CreateSnapshotResponse>(client, "CreateSnapshot",
            new CreateSnapshotRequest { Name = "snap-a", SourceVolumeId = scenario.VolumeA });
        var group = await client.UnaryAsync<CreateVolumeGroupSnapshotResponse>(
            "GroupController", "CreateVolumeGroupSnapshot",
            new CreateVolumeGroupSnapshotRequest { Name = "group-1", SourceVolumeIds = { scenario.VolumeA, scenario.VolumeB } });
        var other = PoolScenario.VolumeARequest();
        other.CapacityRange.RequiredBytes = 32 << 20;
        var conflict = Assert.ThrowsAsync<RpcException>(() =>
            PoolScenario.Controller<CreateVolumeResponse>(client, "CreateVolume", other));
        await PoolScenario.Controller<DeleteVolumeResponse>(client, "DeleteVolume", new DeleteVolumeRequest { VolumeId = scenario.Clone });

        Assert.That(retry.Volume.VolumeId, Is.EqualTo(scenario.VolumeA));
        Assert.That(retry.Volume.CapacityBytes, Is.EqualTo(16 << 20));
        Assert.That(restored.Volume.VolumeId, Is.EqualTo(scenario.Restored));
        Assert.That(snapshot.Snapshot.SnapshotId, Is.EqualTo(scenario.Snapshot));
        Assert.That(group.GroupSnapshot.GroupSnapshotId, Is.EqualTo(scenario.Group));
        Assert.That(conflict!.StatusCode, Is.EqualTo(StatusCode.AlreadyExists));
        Assert.That(File.Exists(Path.Combine(scenario.Pool, scenario.Clone + ".img")), Is.False, "a delete deletes the image");
    }

    [Test]
    public async Task JournalTruncatedToZero_DriverAndOperatorCommandsRefuse_NothingIsDeleted_RebuildRecovers()
    {
        using var scenario = new PoolScenario();
        await scenario.PopulateAsync();
        var before = scenario.Records();
        File.WriteAllBytes(scenario.JournalPath, []);

        var refused = await scenario.StartExpectingRefusalAsync();
        var list = await scenario.RunAsync("journal", "list");
        var gc = await scenario.RunAsync("journal", "gc", "--apply");

        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.Text);
        Assert.That(refused.Text, Does.Contain("is empty").And.Contain("journal rebuild"));
        Assert.That(list.Exit, Is.EqualTo(1));
        Assert.That(list.Text, Does.Contain("journal rebuild"));
        Assert.That(gc.Exit, Is.EqualTo(1));
        Assert.That(new FileInfo(scenario.JournalPath).Length, Is.Zero, "the empty journal is left as it is");
        Assert.That(Directory.GetFiles(scenario.Pool, "*.img"), Has.Length.EqualTo(7), "no image is deleted");

        var rebuilt = await scenario.RunAsync("journal", "rebuild");

        Assert.That(rebuilt.Exit, Is.Zero, rebuilt.Text);
        Assert.That(scenario.Records(), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(scenario.Data, "journal.db.before-rebuild-*"), Has.Length.EqualTo(1), "the empty file is kept aside");
    }

    [Test]
    public async Task JournalDamaged_DriverRefusesAndLeavesItByteForByte_RebuildNeedsForce_AndKeepsIt()
    {
        using var scenario = new PoolScenario();
        await scenario.PopulateAsync();
        var before = scenario.Records();
        File.WriteAllBytes(scenario.JournalPath, [.. Enumerable.Repeat((byte)0x5A, 8192)]);
        var hash = Hash(scenario.JournalPath);

        var refused = await scenario.StartExpectingRefusalAsync();
        var withoutForce = await scenario.RunAsync("journal", "rebuild");

        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.Text);
        Assert.That(refused.Text, Does.Contain("cannot be read").And.Contain("journal rebuild"));
        Assert.That(withoutForce.Exit, Is.EqualTo(1));
        Assert.That(withoutForce.Text, Does.Contain("--force"));
        Assert.That(Hash(scenario.JournalPath), Is.EqualTo(hash), "a damaged journal is never changed");

        var forced = await scenario.RunAsync("journal", "rebuild", "--force");

        Assert.That(forced.Exit, Is.Zero, forced.Text);
        Assert.That(scenario.Records(), Is.EqualTo(before));
        Assert.That(Hash(Directory.GetFiles(scenario.Data, "journal.db.before-rebuild-*").Single()), Is.EqualTo(hash));
    }

    [Test]
    public async Task Rebuild_RefusesWhileADriverServes_AndOverAJournalWithRecordsUnlessForced()
    {
        using var scenario = new PoolScenario();
        await scenario.PopulateAsync();
        var before = scenario.Records();
        var hash = Hash(scenario.JournalPath);

        var withoutForce = await scenario.RunAsync("journal", "rebuild");
        (int Exit, string Text) whileServing;
        await using (var driver = await DriverProcess.StartAsync(scenario.Data))
        {
            whileServing = await scenario.RunAsync("journal", "rebuild", "--force");
            driver.Signal(15);
            await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        var forced = await scenario.RunAsync("journal", "rebuild", "--force");

        Assert.That(withoutForce.Exit, Is.EqualTo(1));
        Assert.That(withoutForce.Text, Does.Contain("holds records").And.Contain("--force"));
        Assert.That(whileServing.Exit, Is.EqualTo(1));
        Assert.That(whileServing.Text, Does.Contain("another loopvol process is using the data directory").And.Contain("loopvol driver"));
        Assert.That(forced.Exit, Is.Zero, forced.Text);
        Assert.That(scenario.Records(), Is.EqualTo(before));
        Assert.That(Hash(Directory.GetFiles(scenario.Data, "journal.db.before-rebuild-*Z").Single()), Is.EqualTo(hash),
            "--force keeps the old journal");
    }

    private static void DeleteJournal(PoolScenario scenario)
    {
        foreach (var file in Directory.GetFiles(scenario.Data, "journal.db*"))
        {
            File.Delete(file);
        }
    }

    private static List<string> Lines(string text) => [.. text.Split('\n').Order(StringComparer.Ordinal)];

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
