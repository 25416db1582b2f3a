using Grpc.Core;
using Loopvol.Csi.V1;
using Loopvol.Journal.Maintenance;
using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Controller;

/// <summary>
/// The real driver killed with SIGKILL at each step of ControllerExpandVolume, then restarted and the same call
/// retried: the answer is the new size, the image has it, the record says it, and the journal check finds nothing.
/// No step may leave a retry answering success for an image that did not grow.
/// </summary>
public sealed class ExpandCrashTests
{
    private const long MiB = 1 << 20;

    private static readonly string[] Points =
        ["expand-volume.grown", "update-size.before-commit", "update-size.after-commit"];

    [TestCaseSource(nameof(Points))]
    public async Task ExpandVolume_KilledAt_RetryAnswersTheNewSize_AndTheImageHasIt(string point)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        string volume;
        await using (var clean = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(clean.Endpoint);
            volume = (await client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume",
                new CreateVolumeRequest
                {
                    Name = "pvc-1", CapacityRange = new CapacityRange { RequiredBytes = 16 * MiB },
                    VolumeCapabilities = { ControllerFixture.Mount() },
                })).Volume.VolumeId;
        }

        await using (var crashing = await DriverProcess.StartAsync(data,
                         new Dictionary<string, string> { ["LOOPVOL_TEST_CRASH_AT"] = point }))
        {
            using var client = new CsiClient(crashing.Endpoint);
            Assert.ThrowsAsync<RpcException>(() => Expand(client, volume), "the call must die with the driver");
            Assert.That(await crashing.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.EqualTo(128 + 9),
                $"the driver must have been killed at {point}:\n{crashing.Output}");
        }

        await using (var driver = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(driver.Endpoint);
            var first = await Expand(client, volume);
            var second = await Expand(client, volume);
            var got = await client.UnaryAsync<ControllerGetVolumeResponse>("Controller", "ControllerGetVolume",
                new ControllerGetVolumeRequest { VolumeId = volume });

            Assert.That((first.CapacityBytes, second.CapacityBytes, got.Volume.CapacityBytes),
                Is.EqualTo((48 * MiB, 48 * MiB, 48 * MiB)));
            Assert.That(got.Status.VolumeCondition.Abnormal, Is.False, got.Status.VolumeCondition.Message);
            driver.Signal(15);
            await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        Assert.That(new FileInfo(layout.ImagePath(volume)).Length, Is.EqualTo(48 * MiB), "the image grew");
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        Assert.That(journal.All().Single().SizeBytes, Is.EqualTo(48 * MiB));
        Assert.That(JournalAudit.Check(journal, new PoolInventory(layout), DateTimeOffset.UtcNow, TimeSpan.Zero), Is.Empty);
    }

    private static Task<ControllerExpandVolumeResponse> Expand(CsiClient client, string volume) =>
        client.UnaryAsync<ControllerExpandVolumeResponse>("Controller", "ControllerExpandVolume",
            new ControllerExpandVolumeRequest { VolumeId = volume, CapacityRange = new CapacityRange { RequiredBytes = 48 * MiB } });
}
