using System.Runtime.InteropServices;
using Loopvol.Core.Native;

namespace Loopvol.NodeHost.Mounts;

/// <summary>mount(2) and umount2(2), called directly; no shell, no mount(8).</summary>
public static partial class Mounter
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
        ["nodiratime"] = NoDiratime, ["relatime"] = RelAtime, ["rw"] = 0, ["defaults"] = 0,
    };

    public static void Mount(string source, string target, string? fsType, ulong flags, string? data)
    {
        if (MountSyscall(source, target, fsType, flags, string.IsNullOrEmpty(data) ? null : data) != 0)
        {
            throw Errno.Failure("mount", $"{source} on {target}", Errno.Last);
        }
    }

    /// <summary>Bind-mounts <paramref name="source"/> at <paramref name="target"/>; read-only takes a second remount.</summary>
    public static void BindMount(string source, string target, bool readOnly)
    {
        Mount(source, target, null, Bind, null);
        if (readOnly)
        {
            Mount(source, target, null, Bind | Remount | ReadOnly, null);
        }
    }

    /// <summary>Unmounts <paramref name="target"/>; a target that is not mounted is success.</summary>
    public static void Unmount(string target)
    {
        if (Umount2(target, 0) != 0 && Errno.Last is not (Errno.EINVAL or Errno.ENOENT))
        {
            throw Errno.Failure("umount2", target, Errno.Last);
        }
    }

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountSyscall(string source, string target, string? fsType, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);
}
