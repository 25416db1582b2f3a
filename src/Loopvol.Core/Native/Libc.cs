using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>
/// Every libc function the driver calls, declared once. These are the bare calls: a negative (or nonzero) result
/// means failure, and where <c>SetLastError</c> is set the errno is then in <see cref="Errno.Last"/>. The wrappers
/// that check results, build structs and name what failed stay with their areas (<see cref="Directories"/>,
/// <c>FileOps</c>, <c>PathCalls</c>, <c>Mounter</c>, <c>LoopDevices</c>...). Variadic functions (open, ioctl) have
/// one overload for each way they are called.
/// </summary>
public static unsafe partial class Libc
{
    // open(2) flags: the generic Linux values (x86-64, arm64).
    public const int ORdonly = 0;
    public const int OWronly = 0x1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ODirectory = 0x10000;
    public const int ONoFollow = 0x20000;
    public const int OCloexec = 0x80000;
    public const int OPath = 0x200000;

    // The *at calls' directory and flags.
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtEmptyPath = 0x1000;

    // lseek(2) whences that find a file's data and holes.
    public const int SeekData = 3;
    public const int SeekHole = 4;

    // Files and directories.

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    /// <summary>open(2) with a mode, for flags that create (the mode is ignored otherwise).</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(SafeFileHandle dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, Span<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    public static partial int Syncfs(int fd);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(SafeFileHandle fd, long length);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

    /// <summary>posix_fadvise(3): returns the error number itself (0 on success), not -1 and errno.</summary>
    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    public static partial int Fadvise(SafeFileHandle fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    public static partial nint CopyFileRange(SafeFileHandle fdIn, long* offIn, SafeFileHandle fdOut, long* offOut,
        nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(SafeFileHandle dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UnlinkAt(SafeFileHandle dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chown(string path, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    // What a file or file system is.

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(SafeFileHandle dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>statx(2) relative to a plain descriptor (<see cref="AtFdCwd"/>); errno is not kept.</summary>
    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statvfs(string path, ulong* buffer);

    /// <summary>statfs(2): unlike statvfs, it says which file system (<c>f_type</c>, the first field).</summary>
    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statfs(string path, long* buffer);

    // Extended attributes.

    [LibraryImport("libc", EntryPoint = "fsetxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int FSetXattr(SafeFileHandle fd, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "setxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetXattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "getxattr", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint GetXattr(string path, string name, Span<byte> value, nuint size);

    // Mounts.

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    // ioctl(2), one overload for each kind of argument; the request numbers stay with the areas that send them.

    /// <summary>An ioctl that takes no argument.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(SafeFileHandle fd, nuint request);

    /// <summary>An ioctl whose argument is a number.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(SafeFileHandle fd, nuint request, nint argument);

    /// <summary>An ioctl whose argument points to a struct.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(SafeFileHandle fd, nuint request, byte* argument);

    /// <summary>An ioctl whose argument is another file's descriptor.</summary>
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(SafeFileHandle fd, nuint request, SafeFileHandle argument);

    // Processes.

    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int signal);
}
