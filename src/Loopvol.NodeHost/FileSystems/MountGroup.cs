using Loopvol.Core.Native;
using Loopvol.NodeHost.Paths;

namespace Loopvol.NodeHost.FileSystems;

/// <summary>volume_mount_group: the staged root becomes group-owned, group-writable and setgid.</summary>
internal static class MountGroup
{
    public static void Apply(PinnedPath root, int gid)
    {
        // Through the descriptor's /proc path: exactly the mounted root, whatever its name points to now.
        var path = root.ProcPath;
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
                                   UnixFileMode.GroupExecute | UnixFileMode.SetGroup);
        if (Libc.Chown(path, -1, gid) != 0)
        {
            throw Errno.Failure("chown", root.Path, Errno.Last);
        }
    }
}
