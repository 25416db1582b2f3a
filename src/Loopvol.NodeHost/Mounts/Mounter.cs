using Loopvol.Core.Native;
using Loopvol.NodeHost.Paths;

namespace Loopvol.NodeHost.Mounts;

/// <summary>mount(2) and umount2(2), called directly; no shell, no mount(8).</summary>
public static class Mounter
{
    public const ulong ReadOnly = 1;
    public const ulong NoSuid = 2;
    public const ulong NoDev = 4;
    public const ulong NoExec = 8;
    public const ulong Remount = 32;
    public const ulong NoAtime = 1024;
    public const ulong Bind = 4096;
    public const ulong NoDiratime = 2048;
    public const ulong RelAtime = 1 << 21;

    /// <summary>The mount flags a capability's mount_flags may name; any other flag is passed as a file-system option.</summary>
    public static readonly IReadOnlyDictionary<string, ulong> Flags = new Dictionary<string, ulong>(StringComparer.Ordinal)
    {
        ["ro"] = ReadOnly, ["nosuid"] = NoSuid, ["nodev"] = NoDev, ["noexec"] = NoExec, ["noatime"] = NoAtime,
        ["nodiratime"] = NoDiratime, ["relatime"] = RelAtime, ["rw"] = 0, ["defaults"] = 0, ["sync"] = 16,
        ["dirsync"] = 128, ["nosymfollow"] = 256, ["silent"] = 32768, ["strictatime"] = 1 << 24, ["lazytime"] = 1 << 25,
        // The defaults these negate: no bit to set.
        ["suid"] = 0, ["dev"] = 0, ["exec"] = 0, ["atime"] = 0, ["diratime"] = 0, ["norelatime"] = 0,
        ["nolazytime"] = 0, ["async"] = 0, ["loud"] = 0,
    };

    private const int UmountNoFollow = 8;

    public static void Mount(string source, string target, string? fsType, ulong flags, string? data) =>
        Mount(source, target, fsType, flags, data, $"{source} on {target}");

    /// <summary>
    /// Mounts <paramref name="source"/> on exactly the object <paramref name="target"/> pinned (through its
    /// descriptor, so a name swapped since the check changes nothing). Returns errno, 0 on success.
    /// </summary>
    public static int TryMount(string source, PinnedPath target, string? fsType, ulong flags, string? data) =>
        Libc.Mount(source, target.ProcPath, fsType, flags, string.IsNullOrEmpty(data) ? null : data) == 0
            ? 0
            : Errno.Last;

    /// <summary>
    /// Bind-mounts the pinned <paramref name="source"/> on the pinned <paramref name="target"/>, then, if asked,
    /// remounts that new mount (found by opening the target's name again under its pinned parent) read-only.
    /// </summary>
    public static void BindMount(PinnedPath source, PinnedPath target, bool readOnly) =>
        BindMount(source.ProcPath, source.Path, target, readOnly);

    /// <summary>Bind-mounts a device node (ours: a loop device) on the pinned <paramref name="target"/>.</summary>
    public static void BindMount(string source, string sourceName, PinnedPath target, bool readOnly)
    {
        Mount(source, target.ProcPath, null, Bind, null, $"{sourceName} on {target.Path}");
        target.Reopen();
        if (readOnly)
        {
            Mount(source, target.ProcPath, null, Bind | Remount | ReadOnly, null, $"read-only remount of {target.Path}");
        }
    }

    /// <summary>
    /// Unmounts the top mount at the pinned path's name (the parent stays pinned, and the last name is not followed
    /// if it became a link). Not mounted: success. Either way the path is pinned again afterwards, so a caller that
    /// tries again sees what is mounted there now.
    /// </summary>
    public static void Unmount(PinnedPath target)
    {
        target.Release(); // An open descriptor on the mount's root would keep it busy.
        var errno = Libc.Umount2(target.ByParent, UmountNoFollow) == 0 ? 0 : Errno.Last;
        target.Reopen();
        if (errno is not (0 or Errno.EINVAL or Errno.ENOENT))
        {
            throw Errno.Failure("umount2", target.Path, errno);
        }
    }

    private static void Mount(string source, string target, string? fsType, ulong flags, string? data, string what)
    {
        if (Libc.Mount(source, target, fsType, flags, string.IsNullOrEmpty(data) ? null : data) != 0)
        {
            throw Errno.Failure("mount", what, Errno.Last);
        }
    }

    /// <summary>Unmounts <paramref name="target"/>; a target that is not mounted is success.</summary>
    public static void Unmount(string target)
    {
        if (Libc.Umount2(target, 0) != 0 && Errno.Last is not (Errno.EINVAL or Errno.ENOENT))
        {
            throw Errno.Failure("umount2", target, Errno.Last);
        }
    }
}
