using Loopvol.Cli;
using Loopvol.Csi.V1;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.Pool;
using Loopvol.Tests.Controller;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

/// <summary>
/// <c>journal check</c> and <c>status</c> run again and again while the driver creates and deletes: they must never
/// report a false finding.
/// </summary>
public sealed class CheckWhileBusyTests
{
    /// <summary>
    /// The audit itself, on its own connection as the command has, with the pool listed 20 ms after the records are
    /// read (fault injection: it widens the window in which creates and deletes land between the two reads, which
    /// otherwise is microseconds wide and is hit only now and then).
    /// </summary>
    [Test]
    public async Task Audit_WithTheDriverWorkingBetweenItsReads_FindsNothing() =>
        await WhileBusyAsync(driver =>
        {
            using var journal = Loopvol.Journal.Journal.Open(driver.Settings.JournalPath);
            var inventory = new SlowListing(new PoolInventory(new PoolLayout(driver.Settings.PoolDirectory)), TimeSpan.FromMilliseconds(20));
            var findings = JournalAudit.Check(journal, inventory, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(10));
            return Task.FromResult(findings.Count == 0 ? null : string.Join("\n", findings));
        });

    [Test]
    public async Task Check_RepeatedWhileVolumesAndSnapshotsComeAndGo_FindsNothing() =>
        await WhileBusyAsync(async driver =>
        {
            using var output = new StringWriter();
            var exit = await LoopvolCommand.RunAsync(["journal", "check", "--data-dir", driver.Settings.DataDirectory], output, output);
            return exit == 0 ? null : output.ToString();
        });

    /// <summary><c>loopvol status</c> reads the same journal and pool, and runs the same check: nothing false either.</summary>
    [Test]
    public async Task Status_RepeatedWhileVolumesAndSnapshotsComeAndGo_FindsNothing() =>
        await WhileBusyAsync(async driver =>
        {
            using var output = new StringWriter();
            var exit = await LoopvolCommand.RunAsync(["status", "--json", "--data-dir", driver.Settings.DataDirectory], output, output);
            using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
            return exit == 0 && json.RootElement.GetProperty("needs_operator").GetArrayLength() == 0 ? null : output.ToString();
        });

    /// <summary>Runs <paramref name="check"/> (null: nothing found) again and again while three workers create and delete.</summary>
    private static async Task WhileBusyAsync(Func<InProcessDriver, Task<string?>> check)
    {
        await using var driver = await InProcessDriver.StartAsync();
        using var stop = new CancellationTokenSource();
        var operations = 0;
        async Task ChurnAsync(int worker)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var volume = (await driver.CallAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
                {
                    Name = $"pvc-{worker}-{i}", CapacityRange = new CapacityRange { RequiredBytes = 1 << 20 },
                    VolumeCapabilities = { ControllerFixture.Mount() },
                })).Volume.VolumeId;
                var snapshot = (await driver.CallAsync<CreateSnapshotResponse>("Controller", "CreateSnapshot",
                    new CreateSnapshotRequest { Name = $"snap-{worker}-{i}", SourceVolumeId = volume })).Snapshot.SnapshotId;
                await driver.CallAsync<DeleteSnapshotResponse>("Controller", "DeleteSnapshot", new DeleteSnapshotRequest { SnapshotId = snapshot });
                if (i % 3 != 0)
                {
                    await driver.CallAsync<DeleteVolumeResponse>("Controller", "DeleteVolume", new DeleteVolumeRequest { VolumeId = volume });
                }
                Interlocked.Add(ref operations, 4);
            }
        }
        var churn = Enumerable.Range(0, 3).Select(w => Task.Run(() => ChurnAsync(w))).ToList();
        var findings = new List<string>();
        var runs = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        try
        {
            for (; (Volatile.Read(ref operations) < 400 || runs < 50) && DateTime.UtcNow < deadline; runs++)
            {
                if (await check(driver) is { } found)
                {
                    findings.Add(found);
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(churn);
        }

        Assert.That(findings, Is.Empty, "a check while the driver works must report nothing that is not wrong");
        Assert.That(operations, Is.GreaterThanOrEqualTo(400), "the driver must have been busy while the checks ran");
        Assert.That(runs, Is.GreaterThanOrEqualTo(50));
        // Deletes answer before their records go (the pool's sweeper removes them just after): let it finish, then
        // nothing at all may be left, not even a delete in flight.
        await driver.Driver.Pool.DrainDeletesAsync();
        using var final = new StringWriter();
        Assert.That(await LoopvolCommand.RunAsync(["journal", "check", "--grace", "0", "--data-dir", driver.Settings.DataDirectory],
            final, final), Is.Zero, final.ToString());
    }

    private sealed class SlowListing(IBackendInventory inner, TimeSpan delay) : IBackendInventory
    {
        public IReadOnlyCollection<string> BackendNames()
        {
            Thread.Sleep(delay);
            return inner.BackendNames();
        }

        public bool Exists(string backendName) => inner.Exists(backendName);

        public PortableRecord? RecordOf(string backendName) => inner.RecordOf(backendName);

        public void Delete(string backendName) => inner.Delete(backendName);
    }
}
