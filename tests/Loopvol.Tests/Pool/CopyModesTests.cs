using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>
/// The read-only answer <c>loopvol status</c> gives for how the pool copies, on real file systems, against the
/// driver's own answer (<see cref="ImageStore"/> clones two empty files to find out).
/// </summary>
public sealed class CopyModesTests
{
    [TestCase("xfs", true, CopyModes.Reflink)]
    [TestCase("xfs", false, CopyModes.Copy)]
    [TestCase("ext4", false, CopyModes.Copy)]
    public async Task Of_SaysWhatTheDriversCloneProbeFinds_WithoutWriting(string fsType, bool reflink, string expected)
    {
        using (var fs = await LoopFileSystem.CreateAsync(fsType, reflink: reflink))
        {
            var pool = Directory.CreateDirectory(Path.Combine(fs.MountPoint, "pool")).FullName;
            var before = Directory.GetFileSystemEntries(fs.MountPoint, "*", SearchOption.AllDirectories);

            var mode = CopyModes.Of(pool);

            Assert.That(mode, Is.EqualTo(expected));
            Assert.That(Directory.GetFileSystemEntries(fs.MountPoint, "*", SearchOption.AllDirectories), Is.EqualTo(before),
                "it wrote nothing");
            var driver = new ImageStore(new PoolLayout(pool)).SupportsReflink;
            Assert.That(driver, Is.EqualTo(reflink), "the driver's probe agrees");
        }
        HostLeaks.AssertNone();
    }

    [Test]
    public void Of_AFileSystemThatDoesNotSay_IsUnknown()
    {
        Assert.That(CopyModes.Of("/proc"), Is.Null, "procfs is none of btrfs, ext4 or XFS");
        Assert.That(CopyModes.Of("/nonexistent-loopvol-pool"), Is.Null);
    }
}
