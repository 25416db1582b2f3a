using System.Runtime.InteropServices;

namespace Loopvol.Tests.Support;

/// <summary>Tests that need root fail, never skip, when run without it.</summary>
public static partial class Privileged
{
    public static void Require()
    {
        if (Geteuid() != 0)
        {
            Assert.Fail("this test needs root (loop devices and mounts): run the README test command as root");
        }
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint Geteuid();
}
