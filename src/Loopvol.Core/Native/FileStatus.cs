using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>
/// What statx(2) says of a file that the pool and the socket files read: its type and mode bits, inode, device,
/// size and allocated bytes. Links are never followed. (The node's path checks read more of it: PathCalls.)
/// </summary>
public readonly record struct FileStatus(int Mode, ulong Inode, uint DevMajor, uint DevMinor, long Size, long AllocatedBytes)
{
    private const uint StatxType = 0x1, StatxIno = 0x100, StatxSize = 0x200, StatxBlocks = 0x400;
    private const uint Wanted = StatxType | StatxIno | StatxSize | StatxBlocks;
    private const int TypeMask = 0xF000, RegularType = 0x8000, SocketType = 0xC000;

    public bool IsRegularFile => (Mode & TypeMask) == RegularType;

    public bool IsSocket => (Mode & TypeMask) == SocketType;

    /// <summary>The file at <paramref name="path"/>, not following a link; null when statx fails (no such file).</summary>
    public static unsafe FileStatus? At(string path)
    {
        var buffer = stackalloc byte[256];
        return Libc.Statx(Libc.AtFdCwd, path, Libc.AtSymlinkNoFollow, Wanted, buffer) == 0 ? Decode(buffer) : null;
    }

    /// <summary>The open file <paramref name="handle"/>; a failure throws, naming <paramref name="subject"/>.</summary>
    public static unsafe FileStatus Of(SafeFileHandle handle, string subject)
    {
        var buffer = stackalloc byte[256];
        Errno.Check(Libc.Statx(handle, "", Libc.AtEmptyPath, Wanted, buffer), "statx", subject);
        return Decode(buffer);
    }

    // struct statx: stx_mode at 28, stx_ino at 32, stx_size at 40, stx_blocks (512-byte units) at 48,
    // stx_dev_major and stx_dev_minor at 136 and 140.
    private static unsafe FileStatus Decode(byte* b) => new(*(ushort*)(b + 28), *(ulong*)(b + 32), *(uint*)(b + 136),
        *(uint*)(b + 140), *(long*)(b + 40), *(long*)(b + 48) * 512);
}
