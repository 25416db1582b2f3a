using System.Net.Sockets;
using Loopvol.Core.Native;
using Microsoft.Extensions.Logging;

namespace Loopvol.Csi.Transport;

/// <summary>The socket file's life: stale ones are removed, live ones refused, and ours is 0660 from birth.</summary>
internal static class UnixSocketFile
{
    public const UnixFileMode Mode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>The umask under which the socket is bound, so it is never looser than <see cref="Mode"/>.</summary>
    public const uint BindUmask = 0b_001_001_111; // 0117 in octal

    /// <summary>
    /// Makes way for a new socket at <paramref name="path"/>: creates its directory, removes a stale socket (one
    /// no process listens on), and refuses a live socket or anything that is not a socket.
    /// </summary>
    public static void Prepare(string path, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path) && !SocketFiles.IsSocket(path))
        {
            return;
        }
        if (!SocketFiles.IsSocket(path))
        {
            throw new IOException($"refusing to replace {path}: it exists and is not a socket");
        }
        if (IsListening(path))
        {
            throw new IOException($"another process is already serving on {path}");
        }
        File.Delete(path);
        TransportLog.RemovedStaleSocket(logger, path);
    }

    /// <summary>Removes the socket at <paramref name="path"/> only if it is still the one identified by <paramref name="bound"/>.</summary>
    public static void RemoveIfSame(string path, SocketIdentity bound)
    {
        if (SocketIdentity.Of(path) == bound)
        {
            File.Delete(path);
        }
    }

    private static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Which file a socket path names: device and inode, so a successor's socket is never mistaken for ours.</summary>
internal readonly record struct SocketIdentity(uint DevMajor, uint DevMinor, ulong Inode)
{
    public static SocketIdentity? Of(string path) =>
        SocketFiles.Stat(path) is { } st ? new SocketIdentity(st.DevMajor, st.DevMinor, st.Inode) : null;
}
