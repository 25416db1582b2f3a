using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary>The pool directory is locked by the driver serving it; what deletes needs it to itself.</summary>
public sealed class PoolLockTests
{
    [Test]
    public async Task SecondDriver_OtherDataDirectorySamePool_ExitsOneNamingTheHolder_FirstKeepsItsImages()
    {
        using var dir = new TempDirectory();
        var pool = dir.Combine("pool");
        await using var first = await DriverProcess.StartAsync(dir.Combine("data-1"), "--pool-dir", pool);
        using var client = new CsiClient(first.Endpoint);
        var volume = (await PoolScenario.Controller<CreateVolumeResponse>(client, "CreateVolume", PoolScenario.VolumeARequest())).Volume;

        var second = await Processes.RunExpectingFailureAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "loopvol.dll"), "--data-dir", dir.Combine("data-2"), "--pool-dir", pool]);

        Assert.That(second.ExitCode, Is.EqualTo(1), second.Text);
        Assert.That(second.Text, Does.Contain($"another loopvol process is using the pool directory {pool}"));
        Assert.That(second.Text, Does.Contain($"pid {first.ProcessId} (loopvol driver, data directory {dir.Combine("data-1")})"));
        Assert.That(File.Exists(Path.Combine(pool, volume.VolumeId + ".img")), Is.True);
        Assert.That(File.Exists(dir.Combine("data-2", "journal.db")), Is.False, "the refused driver made no journal");
        var probe = await client.UnaryAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());
        Assert.That(probe.Ready, Is.True);
    }

    [Test]
    public async Task WhileTheDriverServes_ReadOnlyCommandsWork_GcApplyIsRefusedAndDeletesNothing()
    {
        using var scenario = new PoolScenario();
        await scenario.PopulateAsync();
        var orphan = Path.Combine(scenario.Pool, $"vol-{Guid.NewGuid():D}.img");
        File.WriteAllBytes(orphan, []);
        await using var driver = await DriverProcess.StartAsync(scenario.Data);

        var list = await scenario.RunAsync("journal", "list");
        var show = await scenario.RunAsync("journal", "show", "pvc-a");
        var check = await scenario.RunAsync("journal", "check");
        var dryRun = await scenario.RunAsync("journal", "gc", "--dry-run");
        var apply = await scenario.RunAsync("journal", "gc", "--apply");

        Assert.That(list.Exit, Is.Zero, list.Text);
        Assert.That(list.Text, Does.Contain("pvc-a"));
        Assert.That(show.Exit, Is.Zero, show.Text);
        Assert.That(check.Exit, Is.EqualTo(1), "the orphan is found");
        Assert.That(check.Text, Does.Contain("OrphanBackend"));
        Assert.That(dryRun.Text, Does.Contain("would repair 1:"));
        Assert.That(apply.Exit, Is.EqualTo(1));
        Assert.That(apply.Text, Does.Contain("journal gc --apply refused").And.Contain("pool directory").And.Contain("loopvol driver"));
        Assert.That(File.Exists(orphan), Is.True, "nothing is deleted while the driver serves");

        driver.Signal(15);
        await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var stopped = await scenario.RunAsync("journal", "gc", "--apply");

        Assert.That(stopped.Text, Does.Contain("repaired 1:"), stopped.Text);
        Assert.That(File.Exists(orphan), Is.False);
    }
}
