using Loopvol.Hosting;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Loopvol.Tests.Hosting;

/// <summary>The journal's space reserve on a real file system: kept while there is room, released when it fills up.</summary>
public sealed class SpaceReserveTests
{
    private const long MiB = 1 << 20;

    [TestCase("xfs")]
    [TestCase("ext4")]
    public async Task Reserve_IsAllocated_ReleasedWhenFull_AndMadeAgainOnceThereIsRoom(string fsType)
    {
        using var fs = await LoopFileSystem.CreateAsync(fsType, 512 * MiB);
        using var reserve = SpaceReserve.Start(fs.MountPoint, 8 * MiB, NullLogger.Instance);

        Assert.That(new FileInfo(reserve.Path).Length, Is.EqualTo(8 * MiB));
        Assert.That(long.Parse(await Processes.RunAsync("stat", ["-c", "%b", reserve.Path]),
            System.Globalization.CultureInfo.InvariantCulture) * 512, Is.AtLeast(8 * MiB), "real blocks, not a sparse file");

        var filler = await Filler.FillAsync(fs.MountPoint);
        reserve.Adjust();
        Assert.That(File.Exists(reserve.Path), Is.False, "released on a full file system");
        Assert.That(filler.FreeBytes, Is.AtLeast(8 * MiB), "and its blocks are free for the journal");
        reserve.Adjust();
        Assert.That(File.Exists(reserve.Path), Is.False, "not made again while there is no room");

        filler.Dispose();
        // XFS frees a deleted file's blocks in the background; the driver adjusts every few seconds, so does this.
        for (var i = 0; i < 50 && !File.Exists(reserve.Path); i++)
        {
            await Processes.RunAsync("sync", ["-f", fs.MountPoint]);
            reserve.Adjust();
            if (!File.Exists(reserve.Path))
            {
                await Task.Delay(100);
            }
        }
        Assert.That(new FileInfo(reserve.Path).Length, Is.EqualTo(8 * MiB), "made again once there is room");
    }
}
