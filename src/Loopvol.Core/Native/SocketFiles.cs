namespace Loopvol.Core.Native;

/// <summary>What a server needs to manage its Unix socket file: the umask it binds under, and the file's identity.</summary>
public static class SocketFiles
{
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int StatxModeOffset = 28;
    private const int StatxInoOffset = 32;
    private const int StatxDevMajorOffset = 136;
    private const int StatxDevMinorOffset = 140;
    private const int TypeMask = 0xF000;
    private const int SocketType = 0xC000;

    /// <summary>umask(2): sets the process's file mode creation mask and returns the previous one.</summary>
    public static uint Umask(uint mask) => Libc.Umask(mask);

    /// <summary>True when <paramref name="path"/> exists and is a socket (links are not followed).</summary>
    public static bool IsSocket(string path) => Stat(path) is { } st && (st.Mode & TypeMask) == SocketType;

    /// <summary>The type-and-mode bits, device and inode of <paramref name="path"/>; null when it does not exist.</summary>
    public static unsafe (int Mode, uint DevMajor, uint DevMinor, ulong Inode)? Stat(string path)
    {
        var buffer = stackalloc byte[256];
        if (Libc.Statx(Libc.AtFdCwd, path, Libc.AtSymlinkNoFollow, StatxType | StatxIno, buffer) != 0)
        {
            return null;
        }
        return (*(ushort*)(buffer + StatxModeOffset), *(uint*)(buffer + StatxDevMajorOffset),
            *(uint*)(buffer + StatxDevMinorOffset), *(ulong*)(buffer + StatxInoOffset));
    }
}
