using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool;

/// <summary>
/// Whether the pool's file system shares extents between copies (reflinks) or the pool makes full sparse copies,
/// learnt without writing anything, for operator commands that must not change the pool while a driver serves it.
/// The driver itself asks the file system by cloning two empty files (<see cref="ImageStore"/>); this reads what the
/// file system says of itself instead: btrfs always shares extents, ext2/3/4 never does, and XFS does when it was
/// made with <c>reflink=1</c> (its geometry's feature flags say so). Any other file system is not known: only a copy
/// would tell.
/// </summary>
public static class CopyModes
{
    public const string Reflink = "reflink";
    public const string Copy = "copy";

    private const long Ext4Magic = 0xEF53;
    private const long BtrfsMagic = 0x9123683E;
    private const long XfsMagic = 0x58465342;

    /// <summary>
    /// XFS_IOC_FSGEOMETRY_V4: _IOR('X', 124, struct xfs_fsop_geom_v4), the 112-byte geometry every XFS kernel answers.
    /// </summary>
    private const uint XfsGeometry = 0x8070587C;
    private const int XfsGeometryBytes = 112;
    private const int XfsFlagsOffset = 92; // After 8 u32, 4 u64, the 16-byte UUID, sunit, swidth and version.
    private const uint XfsFlagReflink = 1u << 20; // XFS_FSOP_GEOM_FLAGS_REFLINK

    /// <summary>
    /// <see cref="Reflink"/> or <see cref="Copy"/> for the file system holding <paramref name="directory"/>; null
    /// when its kind is not one of those above, or it does not answer. Reads only; repeated, the same answer.
    /// </summary>
    public static unsafe string? Of(string directory)
    {
        var buffer = stackalloc long[16]; // struct statfs on 64-bit Linux is 120 bytes; f_type comes first.
        if (Libc.Statfs(directory, buffer) != 0)
        {
            return null;
        }
        return buffer[0] switch
        {
            BtrfsMagic => Reflink,
            Ext4Magic => Copy,
            XfsMagic => XfsReflink(directory) is { } reflink ? (reflink ? Reflink : Copy) : null,
            _ => null,
        };
    }

    private static unsafe bool? XfsReflink(string directory)
    {
        var fd = Libc.Open(directory, Libc.ORdonly | Libc.ODirectory | Libc.OCloexec);
        if (fd < 0)
        {
            return null;
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var geometry = stackalloc byte[XfsGeometryBytes];
        if (Libc.Ioctl(handle, XfsGeometry, geometry) != 0)
        {
            return null;
        }
        return (*(uint*)(geometry + XfsFlagsOffset) & XfsFlagReflink) != 0;
    }
}
