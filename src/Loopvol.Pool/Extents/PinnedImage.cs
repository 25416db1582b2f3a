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
    public static PinnedImage? Open(string path)
    {
        var fd = Libc.Open(path, Libc.ORdonly | Libc.ONoFollow | Libc.OCloexec);
        if (fd < 0)
        {
            var errno = Errno.Last;
            return errno switch
            {
                Errno.ENOENT => null,
                Errno.ELOOP => throw new InvalidOperationException($"{path} is a symbolic link, not an image of the pool"),
                _ => throw Errno.Failure("open", path, errno),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var status = FileStatus.Of(handle, path);
            if (!status.IsRegularFile)
            {
                throw new InvalidOperationException($"{path} is not a regular file, not an image of the pool");
            }
            return new PinnedImage(handle, path, status.Size);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void Dispose() => Handle.Dispose();
}
