using Loopvol.Csi.V1;
using Loopvol.Tests.Pool;

namespace Loopvol.Tests.Node;

/// <summary>
/// A thick volume made thin while staged keeps its reservation (a write could land in a range being punched) and
/// gives it back at NodeUnstageVolume, once its loop device is gone; the data written meanwhile stays.
/// </summary>
public sealed class ThinReleaseTests : NodeFixture
{
    [Test]
    public async Task ThinWhileStaged_ReleasedAtUnstage_DataKept()
    {
        var volume = await CreateVolumeAsync(Mount("xfs"), 256 * MiB);
        await Controller<ControllerModifyVolumeResponse>("ControllerModifyVolume", new ControllerModifyVolumeRequest
        {
            VolumeId = volume, MutableParameters = { ["provisioning"] = "thick" },
        });
        await StageAsync(volume, Mount("xfs"));
        await PublishAsync(volume, Mount("xfs"), Target());
        var data = new byte[3 * MiB];
        new Random(7).NextBytes(data);
        await File.WriteAllBytesAsync(Path.Combine(Target(), "data"), data);

        await Controller<ControllerModifyVolumeResponse>("ControllerModifyVolume", new ControllerModifyVolumeRequest
        {
            VolumeId = volume, MutableParameters = { ["provisioning"] = "thin" },
        });
        var image = Path.Combine(Driver.Settings.PoolDirectory, volume + ".img");
        var whileStaged = PoolOnFileSystem.Allocated(image);
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);
        var afterUnstage = PoolOnFileSystem.Allocated(image);
        await StageAsync(volume, Mount("xfs"));
        await PublishAsync(volume, Mount("xfs"), Target());
        var readBack = await File.ReadAllBytesAsync(Path.Combine(Target(), "data"));
        await UnpublishAsync(volume, Target());
        await UnstageAsync(volume);

        Assert.Multiple(() =>
        {
            Assert.That(whileStaged, Is.GreaterThanOrEqualTo(256 * MiB), "nothing is punched under a staged volume");
            Assert.That(afterUnstage, Is.LessThan(64 * MiB), "what was reserved and never written is given back");
            Assert.That(readBack, Is.EqualTo(data));
        });
    }
}
