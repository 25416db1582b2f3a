using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>A file's data regions as lseek(2) finds them with SEEK_DATA and SEEK_HOLE; holes (and unwritten extents) are skipped.</summary>
public static class DataRegions
{
    /// <summary>
    /// The data regions that overlap [<paramref name="start"/>, <paramref name="end"/>), in order, clipped to it, found
    /// lazily.
    /// </summary>
    public static IEnumerable<(long Start, long End)> Of(SafeFileHandle handle, long start, long end, string subject)
    {
        var offset = start;
        while (offset < end)
        {
            var data = Libc.Lseek(handle, offset, Libc.SeekData);
            if (data < 0)
            {
                if (Errno.Last == Errno.ENXIO)
                {
                    yield break; // No data after offset.
                }
                throw Errno.Failure("lseek(SEEK_DATA)", subject, Errno.Last);
            }
            if (data >= end)
            {
                yield break;
            }
            var hole = Errno.Check(Libc.Lseek(handle, data, Libc.SeekHole), "lseek(SEEK_HOLE)", subject);
            yield return (data, Math.Min(hole, end));
            offset = hole;
        }
    }
}
