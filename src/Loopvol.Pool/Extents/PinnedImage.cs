using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool.Extents;

/// <summary>
/// A pool image held open for reading: its inode stays readable while the handle is open, even if the image is
/// deleted meanwhile, so a listing that started on it ends on the same data. Opened without following a link:
/// anything but a regular file at an image's name is refused.
/// </summary>
internal sealed class PinnedImage : IDisposable
{
    private const int ELoop = 40;
    private const uint StatxType = 0x1;
    private const int TypeMask = 0xF000, RegularFile = 0x8000;

    private PinnedImage(SafeFileHandle handle, string path, long length)
    {
        Handle = handle;
        Path = path;
        Length = length;
    }

    public SafeFileHandle Handle { get; }

    public string Path { get; }

    /// <summary>The file's length when it was opened; images never shrink.</summary>
    public long Length { get; }

    /// <summary>
    /// Opens <paramref name="path"/> (built by <see cref="PoolLayout.ImagePath"/>) read-only; null when there is no
    /// file there. A link or anything but a regular file is <see cref="InvalidOperationException"/>: the pool holds
    /// only what the driver put there.
    /// </summary>
    public static unsafe PinnedImage? Open(string path)
    {
        var fd = Libc.Open(path, Libc.ORdonly | Libc.ONoFollow | Libc.OCloexec);
        if (fd < 0)
        {
            var errno = Errno.Last;
            return errno switch
            {
                Errno.ENOENT => null,
                ELoop => throw new InvalidOperationException($"{path} is a symbolic link, not an image of the pool"),
                _ => throw Errno.Failure("open", path, errno),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var buffer = stackalloc byte[256];
            Errno.Check(Libc.Statx(handle, "", Libc.AtEmptyPath, StatxType, buffer), "statx", path);
            if ((*(ushort*)(buffer + 28) & TypeMask) != RegularFile)
            {
                throw new InvalidOperationException($"{path} is not a regular file, not an image of the pool");
            }
            return new PinnedImage(handle, path, RandomAccess.GetLength(handle));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => Handle.Dispose();
}
