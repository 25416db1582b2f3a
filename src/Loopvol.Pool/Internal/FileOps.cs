using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool.Internal;

/// <summary>The file system calls the pool is built on.</summary>
internal static class FileOps
{
    private const uint Ficlone = 0x40049409; // _IOW(0x94, 9, int)

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
