using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.NodeHost.Paths;

/// <summary>What statx says about one opened path.</summary>
public readonly record struct PathStat(int Mode, ulong Inode, uint DevMajor, uint DevMinor, ulong MountId,
    bool IsMountRoot, long Size)
{
    private const int TypeMask = 0xF000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    public bool IsSymlink => (Mode & TypeMask) == 0xA000;

    public (uint, uint, ulong) Identity => (DevMajor, DevMinor, Inode);
}

/// <summary>
/// The *at system calls that let the node walk a path one component at a time without following links, and act
/// on what it opened instead of on a name that could be swapped meanwhile.
/// </summary>
internal static class PathCalls
{
    private const uint StatxBasic = 0x7FF;
    private const uint StatxMountId = 0x1000;
    private const ulong AttrMountRoot = 0x2000;

    /// <summary>Opens <paramref name="name"/> under <paramref name="directory"/> as O_PATH, never following a link.</summary>
    public static SafeFileHandle? OpenPath(SafeFileHandle directory, string name, out int errno)
    {
        var fd = Libc.OpenAt(directory, name, Libc.OPath | Libc.ONoFollow | Libc.OCloexec, 0);
        errno = fd < 0 ? Errno.Last : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    public static SafeFileHandle OpenRoot() =>
        new((nint)Errno.Check(Libc.Open("/", Libc.OPath | Libc.ODirectory | Libc.OCloexec, 0), "open", "/"),
            ownsHandle: true);

    /// <summary>Creates an empty regular file (mode 0600) under the directory; one already there is EEXIST.</summary>
    public static int CreateFile(SafeFileHandle directory, string name)
    {
        var fd = Libc.OpenAt(directory, name, Libc.OCreat | Libc.OExcl | Libc.ONoFollow | Libc.OWronly | Libc.OCloexec,
            0x180);
        if (fd < 0)
        {
            return Errno.Last;
        }
        Libc.Close(fd);
        return 0;
    }

    public static int MakeDirectory(SafeFileHandle directory, string name) =>
        Libc.MkdirAt(directory, name, 0x1E8) == 0 ? 0 : Errno.Last; // 0750

    /// <summary>Removes an empty directory (or, with <paramref name="directory"/> false, a file) by name.</summary>
    public static int Remove(SafeFileHandle parent, string name, bool directory) =>
        Libc.UnlinkAt(parent, name, directory ? Libc.AtRemoveDir : 0) == 0 ? 0 : Errno.Last;

    public static unsafe PathStat Stat(SafeFileHandle handle, string what)
    {
        var buffer = stackalloc byte[256];
        Errno.Check(Libc.Statx(handle, "", Libc.AtEmptyPath | Libc.AtSymlinkNoFollow, StatxBasic | StatxMountId, buffer),
            "statx", what);
        var attributes = *(ulong*)(buffer + 8);
        var mask = *(uint*)buffer;
        return new PathStat(*(ushort*)(buffer + 28), *(ulong*)(buffer + 32), *(uint*)(buffer + 136),
            *(uint*)(buffer + 140), (mask & StatxMountId) != 0 ? *(ulong*)(buffer + 144) : 0,
            (attributes & AttrMountRoot) != 0, *(long*)(buffer + 40));
    }

    /// <summary>The identity of a directory of the driver's own (links followed: it is ours); null when missing.</summary>
    public static (uint, uint, ulong)? IdentityOf(string directory)
    {
        var fd = Libc.Open(directory, Libc.OPath | Libc.ODirectory | Libc.OCloexec, 0);
        if (fd < 0)
        {
            return null;
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return Stat(handle, directory).Identity;
    }

    /// <summary>What is at <paramref name="path"/> itself (a link is not followed); null when nothing is.</summary>
    public static PathStat? StatEntry(string path)
    {
        var fd = Libc.Open(path, Libc.OPath | Libc.ONoFollow | Libc.OCloexec, 0);
        if (fd < 0)
        {
            return null;
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        return Stat(handle, path);
    }

    /// <summary>The path through /proc that names exactly the object behind <paramref name="handle"/>.</summary>
    public static string ProcPath(SafeFileHandle handle) =>
        $"/proc/self/fd/{handle.DangerousGetHandle().ToInt32()}";
}
