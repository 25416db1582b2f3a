using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool.Internal;

/// <summary>The file system calls the pool is built on.</summary>
internal static class FileOps
{
    private const uint Ficlone = 0x40049409; // _IOW(0x94, 9, int)
    private const int FallocKeepSize = 0x01;
    private const int FallocPunchHole = 0x02;
    private const int FallocUnshareRange = 0x40;

    /// <summary>How much one copy_file_range call moves: the copy checks for cancellation between calls.</summary>
    private const long CopyChunkBytes = 64L << 20;

    /// <summary>Makes <paramref name="target"/> share every extent of <paramref name="source"/>; false when the file system cannot.</summary>
    public static bool TryReflink(SafeFileHandle source, SafeFileHandle target, string subject)
    {
        if (Libc.Ioctl(target, Ficlone, source) == 0)
        {
            return true;
        }
        var errno = Errno.Last;
        return errno is Errno.EOPNOTSUPP or Errno.EXDEV or Errno.EINVAL ? false : throw Errno.Failure("FICLONE", subject, errno);
    }

    /// <summary>
    /// Copies <paramref name="length"/> bytes, only the data regions: holes are skipped (SEEK_DATA/SEEK_HOLE) and
    /// stay holes in the target, and data moves in the kernel (copy_file_range).
    /// </summary>
    public static void SparseCopy(SafeFileHandle source, SafeFileHandle target, long length, string subject,
        CancellationToken cancellationToken)
    {
        foreach (var (start, end) in DataRegions.Of(source, 0, length, subject))
        {
            cancellationToken.ThrowIfCancellationRequested();
            CopyRange(source, target, start, end - start, subject, cancellationToken);
        }
    }

    /// <summary>Bytes in the data regions of a file, which a sparse copy writes: its holes are not counted.</summary>
    public static long DataBytes(SafeFileHandle handle, long length, string subject) =>
        DataRegions.Of(handle, 0, length, subject).Sum(r => r.End - r.Start);

    /// <summary>fallocate(2) over the whole file: its holes become allocated, unwritten blocks; its size stays.</summary>
    public static void Allocate(SafeFileHandle handle, long length, string subject) =>
        Errno.Check(Libc.Fallocate(handle, 0, 0, length), "fallocate", subject);

    /// <summary>
    /// FALLOC_FL_UNSHARE_RANGE over the whole file: blocks shared with other files (reflinks) are copied, so the
    /// file owns all of its blocks. A file system that shares nothing, or cannot unshare, is left as it is.
    /// </summary>
    public static void Unshare(SafeFileHandle handle, long length, string subject)
    {
        if (Libc.Fallocate(handle, FallocUnshareRange, 0, length) != 0 && Errno.Last is not (Errno.EOPNOTSUPP or Errno.EINVAL))
        {
            throw Errno.Failure("fallocate(UNSHARE_RANGE)", subject, Errno.Last);
        }
    }

    /// <summary>
    /// Punches every range SEEK_HOLE reports within <paramref name="length"/>, keeping the size. The file's cached
    /// pages are dropped first: XFS and ext4 report reserved, unwritten blocks as a hole only where no page of them
    /// is cached (one read through them, and they count as data).
    /// </summary>
    public static void PunchHoles(SafeFileHandle handle, long length, string subject)
    {
        const int dontNeed = 4; // POSIX_FADV_DONTNEED
        Sync(handle, subject);
        if (Libc.Fadvise(handle, 0, 0, dontNeed) is not 0 and var error)
        {
            throw Errno.Failure("posix_fadvise(DONTNEED)", subject, error);
        }
        long offset = 0;
        foreach (var (start, end) in DataRegions.Of(handle, 0, length, subject).Append((length, length)).ToList())
        {
            if (start > offset)
            {
                Errno.Check(Libc.Fallocate(handle, FallocPunchHole | FallocKeepSize, offset, start - offset),
                    "fallocate(PUNCH_HOLE)", subject);
            }
            offset = end;
        }
    }

    /// <summary>The bytes of the file's allocated blocks (statx's stx_blocks, links not followed); 0 when there is no file.</summary>
    public static long AllocatedBytes(string path) => FileStatus.At(path)?.AllocatedBytes ?? 0;

    public static void Sync(SafeFileHandle handle, string subject)
    {
        Errno.Check(Libc.Fsync(handle), "fsync", subject);
        Core.Diagnostics.DriverMeters.ImageSynced();
    }

    /// <summary>
    /// ftruncate(2): sets a file's length, leaving any new part a hole. Unlike <c>RandomAccess.SetLength</c> it keeps
    /// the errno: no space is <see cref="Core.Errors.ResourceExhaustedException"/>, EFBIG a
    /// <see cref="Core.Errors.CommandFailedException"/> with that exit code.
    /// </summary>
    public static void SetLength(SafeFileHandle handle, long length, string subject) =>
        Errno.Check(Libc.Ftruncate(handle, length), "ftruncate", subject);

    private static unsafe void CopyRange(SafeFileHandle source, SafeFileHandle target, long start, long count,
        string subject, CancellationToken cancellationToken)
    {
        long inOffset = start, outOffset = start;
        while (count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = (nuint)Math.Min(count, CopyChunkBytes);
            var copied = Errno.Check(Libc.CopyFileRange(source, &inOffset, target, &outOffset, chunk, 0),
                "copy_file_range", subject);
            if (copied == 0)
            {
                return; // The source ended early (it was shorter than its recorded size).
            }
            count -= copied;
        }
    }
}
