using Loopvol.Core.Host;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Node;

/// <summary>
/// How the sysfs view of loop devices is read, on a tree laid out as the kernel lays out
/// /sys/devices/virtual/block (the real kernel is covered by the loop-device tests).
/// </summary>
public sealed class LoopBackingFilesTests
{
    [Test]
    public void Read_ListsBoundLoopDevicesOnly()
    {
        using var sys = new TempDirectory();
        Bound(sys, "loop0", "/pool/a.img\n");
        Directory.CreateDirectory(sys.Combine("loop1")); // idle: no loop/ directory
        Bound(sys, "loop2", "\n"); // being torn down: empty
        Bound(sys, "zram0", "/pool/not-a-loop.img\n");
        Directory.CreateDirectory(sys.Combine("elsewhere", "loop", ""));
        File.WriteAllText(sys.Combine("elsewhere", "loop", "backing_file"), "/pool/b.img\n");
        File.CreateSymbolicLink(sys.Combine("loop9"), sys.Combine("elsewhere"));

        var bound = LoopBackingFiles.Read(sys.Path);

        Assert.That(bound, Is.EquivalentTo(new Dictionary<string, string> { ["/dev/loop0"] = "/pool/a.img" }),
            "idle and empty devices, other block devices and symbolic links are not loop devices holding a file");
    }

    [Test]
    public void Holding_NamesEveryDeviceOfThatFile_InOrder()
    {
        using var sys = new TempDirectory();
        Bound(sys, "loop11", "/pool/a.img\n");
        Bound(sys, "loop3", "/pool/a.img\n");
        Bound(sys, "loop4", "/pool/a.img.old\n");

        Assert.That(LoopBackingFiles.Holding("/pool/a.img", sys.Path), Is.EqualTo(new[] { "/dev/loop11", "/dev/loop3" }));
        Assert.That(LoopBackingFiles.Holding("/pool/c.img", sys.Path), Is.Empty);
        Assert.That(LoopBackingFiles.Read(sys.Combine("missing")), Is.Empty);
    }

    private static void Bound(TempDirectory sys, string device, string backing)
    {
        Directory.CreateDirectory(sys.Combine(device, "loop"));
        File.WriteAllText(sys.Combine(device, "loop", "backing_file"), backing);
    }
}
