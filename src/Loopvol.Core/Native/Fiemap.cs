using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>One extent of a file as FS_IOC_FIEMAP reports it: bytes of the file and where they lie on the device.</summary>
public readonly record struct FileExtent(long Logical, long Physical, long Length, uint Flags)
{
    public long End => Logical + Length;

    /// <summary>Allocated but never written: it reads as zeros, as a hole does (SEEK_DATA skips it too).</summary>
    public bool IsUnwritten => (Flags & Fiemap.ExtentUnwritten) != 0;

    /// <summary>Its blocks are shared with another file (a reflink) or another extent.</summary>
    public bool IsShared => (Flags & Fiemap.ExtentShared) != 0;

    /// <summary>The last extent of the file.</summary>
    public bool IsLast => (Flags & Fiemap.ExtentLast) != 0;

    /// <summary>
    /// Whether <see cref="Physical"/> names where the bytes are: false for extents not yet placed (delayed
    /// allocation), encoded, encrypted, packed with others, or of unknown location.
    /// </summary>
    public bool HasPhysical => (Flags & Fiemap.PhysicalMeaningless) == 0;
}

/// <summary>
/// FS_IOC_FIEMAP(2const): the extents of a file, read a batch at a time. Every batch is asked with
/// FIEMAP_FLAG_SYNC, so data still in the page cache is written (and placed) before it is described.
/// </summary>
public static unsafe class Fiemap
{
    public const uint FlagSync = 0x1;

    public const uint ExtentLast = 0x1;
    public const uint ExtentUnknown = 0x2;
    public const uint ExtentDelalloc = 0x4;
    public const uint ExtentEncoded = 0x8;
    public const uint ExtentDataEncrypted = 0x80;
    public const uint ExtentNotAligned = 0x100;
    public const uint ExtentDataInline = 0x200;
    public const uint ExtentDataTail = 0x400;
    public const uint ExtentUnwritten = 0x800;
    public const uint ExtentMerged = 0x1000;
    public const uint ExtentShared = 0x2000;

    /// <summary>Flags under which an extent's physical address says nothing about where its bytes are.</summary>
    public const uint PhysicalMeaningless = ExtentUnknown | ExtentDelalloc | ExtentEncoded | ExtentDataEncrypted |
                                            ExtentNotAligned | ExtentDataInline | ExtentDataTail;

    private const nuint FsIocFiemap = 0xC020660B; // _IOWR('f', 11, struct fiemap)
    private const int HeaderBytes = 32; // fm_start, fm_length, fm_flags, fm_mapped_extents, fm_extent_count, fm_reserved
    private const int ExtentBytes = 56; // fe_logical, fe_physical, fe_length, 2 reserved u64, fe_flags, 3 reserved u32
    private const int BatchExtents = 256;

    /// <summary>Whether the file system of <paramref name="handle"/> answers FIEMAP; other failures throw.</summary>
    public static bool IsSupported(SafeFileHandle handle, string subject)
    {
        var buffer = stackalloc byte[HeaderBytes];
        new Span<byte>(buffer, HeaderBytes).Clear();
        *(ulong*)(buffer + 8) = 1; // fm_length: one byte; fm_extent_count 0 asks only for the count.
        if (Libc.Ioctl(handle, FsIocFiemap, buffer) == 0)
        {
            return true;
        }
        var errno = Errno.Last;
        return errno is Errno.EOPNOTSUPP or Errno.ENOTTY ? false : throw Errno.Failure("FS_IOC_FIEMAP", subject, errno);
    }

    /// <summary>
    /// The extents that overlap [<paramref name="start"/>, <paramref name="end"/>), in logical order, read lazily
    /// (the first may begin before <paramref name="start"/>, the last end after <paramref name="end"/>). A file
    /// system without FIEMAP throws (ask <see cref="IsSupported"/> first).
    /// </summary>
    public static IEnumerable<FileExtent> Extents(SafeFileHandle handle, long start, long end, string subject)
    {
        var next = start;
        while (next < end)
        {
            var batch = Read(handle, next, end - next, subject);
            if (batch.Length == 0)
            {
                yield break;
            }
            foreach (var extent in batch)
            {
                yield return extent;
            }
            var last = batch[^1];
            if (last.IsLast || last.End <= next)
            {
                yield break;
            }
            next = last.End;
        }
    }

    private static FileExtent[] Read(SafeFileHandle handle, long start, long length, string subject)
    {
        var buffer = new byte[HeaderBytes + BatchExtents * ExtentBytes];
        fixed (byte* map = buffer)
        {
            *(ulong*)map = (ulong)start;
            *(ulong*)(map + 8) = (ulong)length;
            *(uint*)(map + 16) = FlagSync;
            *(uint*)(map + 24) = BatchExtents;
            Errno.Check(Libc.Ioctl(handle, FsIocFiemap, map), "FS_IOC_FIEMAP", subject);
            var mapped = (int)Math.Min(*(uint*)(map + 20), BatchExtents);
            var extents = new FileExtent[mapped];
            for (var i = 0; i < mapped; i++)
            {
                var e = map + HeaderBytes + i * ExtentBytes;
                extents[i] = new FileExtent((long)*(ulong*)e, (long)*(ulong*)(e + 8), (long)*(ulong*)(e + 16),
                    *(uint*)(e + 40));
            }
            return extents;
        }
    }
}
