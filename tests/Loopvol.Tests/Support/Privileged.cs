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

    /// <summary>Whether this process has a capability (e.g. 24, CAP_SYS_RESOURCE, which some sandboxes drop).</summary>
    public static bool HasCapability(int capability)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        var mask = Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
        return (mask >> capability & 1) == 1;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint Geteuid();
}
