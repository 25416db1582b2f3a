namespace Loopvol.Core.Native;

/// <summary>What a server needs to manage its Unix socket file: the umask it binds under, and the file's identity.</summary>
public static class SocketFiles
{
    /// <summary>umask(2): sets the process's file mode creation mask and returns the previous one.</summary>
    public static uint Umask(uint mask) => Libc.Umask(mask);

    /// <summary>True when <paramref name="path"/> exists and is a socket (links are not followed).</summary>
    public static bool IsSocket(string path) => FileStatus.At(path) is { IsSocket: true };

    /// <summary>The type-and-mode bits, device and inode of <paramref name="path"/>; null when it does not exist.</summary>
    public static (int Mode, uint DevMajor, uint DevMinor, ulong Inode)? Stat(string path) =>
        FileStatus.At(path) is { } st ? (st.Mode, st.DevMajor, st.DevMinor, st.Inode) : null;
}
