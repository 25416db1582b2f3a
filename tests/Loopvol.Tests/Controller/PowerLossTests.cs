using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Loopvol.NodeHost.Mounts;
using Loopvol.Pool;
using Loopvol.Tests.Support;
using static Loopvol.Tests.Controller.CrashTests;

namespace Loopvol.Tests.Controller;

/// <summary>
/// The fsyncs docs/durability.md removed, each with what a power loss could then lose. SIGKILL keeps the page
/// cache, so the loss itself is done by hand after the real driver is killed: an image whose rename never reached
/// the disk is deleted (or left in .incoming, or left without its size and record), an unlink that never reached
/// the disk is undone (the image linked back). Start-up must make again only what never held data, report what
/// did, and finish every delete.
/// </summary>
public sealed class PowerLossTests
{
    private const long MiB = 1 << 20;

    public enum Loss
    {
        /// <summary>The rename into place never reached the disk.</summary>
        Missing,

        /// <summary>Neither did the rename, and the file under .incoming did.</summary>
        LeftInIncoming,

        /// <summary>The name reached the disk, the size and the record on the inode did not.</summary>
        MetadataLost,
    }

    public enum Gate
    {
        Snapshot,
        Clone,
        Expand,
    }

    [TestCase(Loss.Missing)]
    [TestCase(Loss.LeftInIncoming)]
    [TestCase(Loss.MetadataLost)]
    public async Task CreateVolume_Answered_ThenThePowerLossLosesTheEmptyImage_StartMakesItAgain(Loss loss)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);

        Lose(data, volume, loss);

        await using (var driver = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(driver.Endpoint);
            Assert.That((await Create(client, "pvc-1")).Volume.VolumeId, Is.EqualTo(volume), "the retry finds the same volume");
            var got = await client.UnaryAsync<ControllerGetVolumeResponse>("Controller", "ControllerGetVolume",
                new ControllerGetVolumeRequest { VolumeId = volume });
            Assert.That(got.Status.VolumeCondition.Abnormal, Is.False, got.Status.VolumeCondition.Message);
            Assert.That(driver.Output, Does.Contain($"the image of {volume}").And.Contain("made again from its record"));
            await StopAsync(driver);
        }
        AssertEmptyImage(data, volume, durable: false);
        AssertClean(data, images: 1);
    }

    [Test]
    public async Task CreateVolume_KilledAfterTheRename_ThenThePowerLossLosesIt_RetryAnswersTheVolumeMadeAgain()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        await CrashAsync(data, "image.create.renamed", c => Create(c, "pvc-1"));
        string volume;
        using (var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            var record = journal.All().Single();
            Assert.That(record is { State: ReservationState.Created, ImageDurable: false }, Is.True,
                "recorded created, durably, before the rename; its image not synced");
            volume = record.Id.ToString();
        }

        Lose(data, volume, Loss.Missing);
        var (first, second) = await RetryTwiceAsync(data, c => Create(c, "pvc-1"));

        Assert.That((first.Volume.VolumeId, second.Volume.VolumeId), Is.EqualTo((volume, volume)));
        AssertEmptyImage(data, volume, durable: false);
        AssertClean(data, images: 1);
    }

    [TestCase(Gate.Snapshot)]
    [TestCase(Gate.Clone)]
    [TestCase(Gate.Expand)]
    public async Task EmptyVolume_MadeDurableByAUse_ImageLost_IsReportedAndNeverMadeAgain(Gate gate)
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var volume = await CreateWithoutCrashAsync(data);
        await using (var driver = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(driver.Endpoint);
            await (gate switch
            {
                Gate.Snapshot => (Task)Snapshot(client, volume),
                Gate.Clone => client.UnaryAsync<CreateVolumeResponse>("Controller", "CreateVolume", new CreateVolumeRequest
                {
                    Name = "pvc-clone", VolumeCapabilities = { ControllerFixture.Mount() },
                    VolumeContentSource = new VolumeContentSource { Volume = new() { VolumeId = volume } },
                }),
                _ => client.UnaryAsync<ControllerExpandVolumeResponse>("Controller", "ControllerExpandVolume",
                    new ControllerExpandVolumeRequest { VolumeId = volume, CapacityRange = new() { RequiredBytes = 32 * MiB } }),
            });
            await StopAsync(driver);
        }
        AssertEmptyImage(data, volume, durable: true, gate == Gate.Expand ? 32 * MiB : 16 * MiB);

        await AssertLostImageReportedAsync(data, volume);
    }

    [Test]
    public async Task EmptyVolume_MadeDurableByNodeStage_ImageLost_IsReportedAndNeverMadeAgain()
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var staging = dir.Combine("staging");
        var volume = await CreateWithoutCrashAsync(data);
        await using (var driver = await DriverProcess.StartAsync(data))
        {
            using var client = new CsiClient(driver.Endpoint);
            await StageAsync(client, volume, staging);
            await UnstageAsync(client, volume, staging);
            await StopAsync(driver);
        }
        using (var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            Assert.That(journal.All().Single().ImageDurable, Is.True, "staged once, so it may hold data");
        }

        await AssertLostImageReportedAsync(data, volume);
    }

    /// <summary>Killed after the image and the directory were synced but before that was recorded, and after.</summary>
    [TestCase("image-durable.synced", false)]
    [TestCase("mark-image-durable.after-commit", true)]
    public async Task NodeStage_KilledWhileMakingTheImageDurable_RetryStages(string point, bool recorded)
    {
        Privileged.Require();
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var staging = dir.Combine("staging");
        var volume = await CreateWithoutCrashAsync(data);
        try
        {
            await CrashAsync(data, point, c => StageAsync(c, volume, staging));
            AssertEmptyImage(data, volume, recorded);

            await using var driver = await DriverProcess.StartAsync(data);
            using var client = new CsiClient(driver.Endpoint);
            await StageAsync(client, volume, staging);
            Assert.That(MountTable.At(staging), Is.Not.Null);
            await UnstageAsync(client, volume, staging);
            await StopAsync(driver);
        }
        finally
        {
            if (MountTable.At(staging) is not null)
            {
                await Processes.RunExpectingFailureAsync("umount", ["-l", staging]);
            }
        }
        using (var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db")))
        {
            Assert.That(journal.All().Single().ImageDurable, Is.True);
        }
        AssertClean(data, images: 1);
        Assert.That(HostLeaks.Find().Where(l => l.Contains(dir.Path, StringComparison.Ordinal)), Is.Empty);
    }

    private static void Lose(string data, string volume, Loss loss)
    {
        var layout = new PoolLayout(Path.Combine(data, "pool"));
        var image = layout.ImagePath(volume);
        switch (loss)
        {
            case Loss.Missing:
                File.Delete(image);
                break;
            case Loss.LeftInIncoming:
                File.Move(image, layout.IncomingPath(volume));
                break;
            case Loss.MetadataLost:
                File.Delete(image);
                File.WriteAllBytes(image, []);
                break;
        }
    }

    private static async Task AssertLostImageReportedAsync(string data, string volume)
    {
        var image = new PoolLayout(Path.Combine(data, "pool")).ImagePath(volume);
        File.Delete(image);
        await using var driver = await DriverProcess.StartAsync(data);
        using var client = new CsiClient(driver.Endpoint);
        var got = await client.UnaryAsync<ControllerGetVolumeResponse>("Controller", "ControllerGetVolume",
            new ControllerGetVolumeRequest { VolumeId = volume });
        await StopAsync(driver);

        Assert.That(driver.Output, Does.Contain("left for an operator").And.Contain($"MissingBackend {volume}"));
        Assert.That(driver.Output, Does.Not.Contain("made again from its record"));
        Assert.That(File.Exists(image), Is.False, "an image that may have held data is never replaced by an empty one");
        Assert.That(got.Status.VolumeCondition.Abnormal, Is.True);
        Assert.That(got.Status.VolumeCondition.Message, Does.Contain("missing"));
    }

    private static void AssertEmptyImage(string data, string volume, bool durable, long size = 16 * MiB)
    {
        var image = new PoolLayout(Path.Combine(data, "pool")).ImagePath(volume);
        Assert.That(new FileInfo(image).Length, Is.EqualTo(size));
        Assert.That(ImageRecords.Read(image)!.Id.ToString(), Is.EqualTo(volume), "the image carries its record");
        using var journal = Loopvol.Journal.Journal.Open(Path.Combine(data, "journal.db"));
        Assert.That(journal.All().Single(r => r.Id.ToString() == volume).ImageDurable, Is.EqualTo(durable));
    }

    private static Task<NodeStageVolumeResponse> StageAsync(CsiClient client, string volume, string staging)
    {
        Directory.CreateDirectory(staging);
        return client.UnaryAsync<NodeStageVolumeResponse>("Node", "NodeStageVolume", new NodeStageVolumeRequest
        {
            VolumeId = volume, StagingTargetPath = staging, VolumeCapability = ControllerFixture.Mount("ext4"),
        });
    }

    private static Task UnstageAsync(CsiClient client, string volume, string staging) =>
        client.UnaryAsync<NodeUnstageVolumeResponse>("Node", "NodeUnstageVolume",
            new NodeUnstageVolumeRequest { VolumeId = volume, StagingTargetPath = staging });

    private static async Task StopAsync(DriverProcess driver)
    {
        driver.Signal(15);
        Assert.That(await driver.WaitForExitAsync(TimeSpan.FromSeconds(30)), Is.Zero, driver.Output);
    }
}
