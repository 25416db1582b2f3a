using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.NodeHost.FileSystems;

/// <summary>FIFREEZE and FITHAW on a mounted file system: writes block (after a flush) until it is thawed.</summary>
public static class Freezer
{
    private const uint Fifreeze = 0xC0045877; // _IOWR('X', 119, int)
    private const uint Fithaw = 0xC0045878; // _IOWR('X', 120, int)

    public static void Freeze(string mountPoint) => Call(mountPoint, Fifreeze, "FIFREEZE");

    /// <summary>
    /// Writes a file system's dirty data out (syncfs) without freezing it: done to every member before the first
    /// freeze, so each freeze has little left to flush and the window in which writes block stays short.
    /// </summary>
    public static void Flush(string mountPoint)
    {
        var fd = Libc.Open(mountPoint, Libc.ORdonly);
        if (fd < 0)
        {
            throw Errno.Failure("open", mountPoint, Errno.Last);
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Syncfs(fd) != 0)
        {
            throw Errno.Failure("syncfs", mountPoint, Errno.Last);
        }
    }

    /// <summary>Thaws a file system; one that is not frozen is success (EINVAL).</summary>
    public static void Thaw(string mountPoint)
    {
        try
        {
            Call(mountPoint, Fithaw, "FITHAW");
        }
        catch (Core.Errors.CommandFailedException e) when (e.ExitCode == Errno.EINVAL)
        {
            // Not frozen.
        }
    }

    private static void Call(string mountPoint, uint request, string name)
    {
        var fd = Libc.Open(mountPoint, Libc.ORdonly);
        if (fd < 0)
        {
            throw Errno.Failure("open", mountPoint, Errno.Last);
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Ioctl(handle, request, 0) != 0)
        {
            throw Errno.Failure(name, mountPoint, Errno.Last);
        }
    }
}
