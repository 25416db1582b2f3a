using System.Runtime.InteropServices;
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
internal static partial class PathCalls
{
    public const int OPath = 0x200000;
    public const int ODirectory = 0x10000;
    public const int ONoFollow = 0x20000;
    public const int OCloexec = 0x80000;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OWronly = 0x1;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtRemoveDir = 0x200;
    private const uint StatxBasic = 0x7FF;
    private const uint StatxMountId = 0x1000;
    private const ulong AttrMountRoot = 0x2000;
    public const int EEXIST = 17;
    public const int ENOTEMPTY = 39;
    public const int EISDIR = 21;

    /// <summary>Opens <paramref name="name"/> under <paramref name="directory"/> as O_PATH, never following a link.</summary>
    public static SafeFileHandle? OpenPath(SafeFileHandle directory, string name, out int errno)
    {
        var fd = OpenAt(directory, name, OPath | ONoFollow | OCloexec, 0);
        errno = fd < 0 ? Errno.Last : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    public static SafeFileHandle OpenRoot() =>
        new((nint)Errno.Check(Open("/", OPath | ODirectory | OCloexec, 0), "open", "/"), ownsHandle: true);

    /// <summary>Creates an empty regular file (mode 0600) under the directory; one already there is EEXIST.</summary>
    public static int CreateFile(SafeFileHandle directory, string name)
    {
        var fd = OpenAt(directory, name, OCreat | OExcl | ONoFollow | OWronly | OCloexec, 0x180);
        if (fd < 0)
        {
            return Errno.Last;
        }
        Close(fd);
        return 0;
    }

    public static int MakeDirectory(SafeFileHandle directory, string name) =>
        MkdirAt(directory, name, 0x1E8) == 0 ? 0 : Errno.Last; // 0750

    /// <summary>Removes an empty directory (or, with <paramref name="directory"/> false, a file) by name.</summary>
    public static int Remove(SafeFileHandle parent, string name, bool directory) =>
        UnlinkAt(parent, name, directory ? AtRemoveDir : 0) == 0 ? 0 : Errno.Last;

    public static unsafe PathStat Stat(SafeFileHandle handle, string what)
    {
        var buffer = stackalloc byte[256];
        Errno.Check(Statx(handle, "", AtEmptyPath | AtSymlinkNoFollow, StatxBasic | StatxMountId, buffer), "statx", what);
        var attributes = *(ulong*)(buffer + 8);
        var mask = *(uint*)buffer;
        return new PathStat(*(ushort*)(buffer + 28), *(ulong*)(buffer + 32), *(uint*)(buffer + 136),
            *(uint*)(buffer + 140), (mask & StatxMountId) != 0 ? *(ulong*)(buffer + 144) : 0,
            (attributes & AttrMountRoot) != 0, *(long*)(buffer + 40));
    }

    /// <summary>The identity of a directory of the driver's own (links followed: it is ours); null when missing.</summary>
    public static (uint, uint, ulong)? IdentityOf(string directory)
    {
        var fd = Open(directory, OPath | ODirectory | OCloexec, 0);
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
        var fd = Open(path, OPath | ONoFollow | OCloexec, 0);
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

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(SafeFileHandle dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdirAt(SafeFileHandle dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAt(SafeFileHandle dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(SafeFileHandle dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
