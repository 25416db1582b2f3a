using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Journal.Model;
using Loopvol.Pool.Internal;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool;

/// <summary>
/// The pool's image files. A new image is written under <c>.incoming/</c> with its record (<see cref="ImageRecords"/>),
/// synced, and renamed into place (the directory synced too), so a finished name only ever holds a complete image
/// that says what it is. Copies are reflinks where the file system shares extents, else sparse copies that skip
/// holes. Each method says what a repeat does.
/// </summary>
public sealed class ImageStore
{
    private const UnixFileMode VolumeMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode SnapshotMode = UnixFileMode.UserRead;
    private readonly IFaultInjector _faults;

    public ImageStore(PoolLayout layout, IFaultInjector? faults = null)
    {
        Layout = layout;
        _faults = faults ?? NoFaults.Instance;
        Directory.CreateDirectory(layout.Directory);
        Directory.CreateDirectory(layout.IncomingDirectory);
        ClearIncoming();
        ImageRecords.EnsureSupported(layout.IncomingDirectory);
        SupportsReflink = ProbeReflink();
    }

    public PoolLayout Layout { get; }

    /// <summary>Whether copies share extents (XFS with reflink=1, btrfs) or fall back to sparse copies (ext4).</summary>
    public bool SupportsReflink { get; }

    public bool Exists(string backendName) => File.Exists(Layout.ImagePath(backendName));

    /// <summary>The image's apparent size; null when there is none.</summary>
    public long? SizeOf(string backendName)
    {
        var file = new FileInfo(Layout.ImagePath(backendName));
        return file.Exists ? file.Length : null;
    }

    /// <summary>Creates an empty sparse image of <paramref name="sizeBytes"/>. Repeated: the existing image stays.</summary>
    public void CreateEmpty(string backendName, long sizeBytes, PortableRecord record) =>
        Publish(backendName, VolumeMode, record, (handle, path) => RandomAccess.SetLength(handle, sizeBytes));

    /// <summary>
    /// Creates <paramref name="targetName"/> as a copy of <paramref name="sourceName"/>, grown to
    /// <paramref name="sizeBytes"/> when that is larger. A read-only copy is a snapshot. Repeated: the existing
    /// image stays. A missing source is <see cref="NotFoundException"/>.
    /// </summary>
    public void Copy(string sourceName, string targetName, long sizeBytes, bool readOnly, PortableRecord record,
        CancellationToken cancellationToken)
    {
        var sourcePath = Layout.ImagePath(sourceName);
        Publish(targetName, readOnly ? SnapshotMode : VolumeMode, record, (target, path) =>
        {
            SafeFileHandle source;
            try
            {
                source = File.OpenHandle(sourcePath, FileMode.Open, FileAccess.Read);
            }
            catch (FileNotFoundException)
            {
                throw new NotFoundException($"the image of {sourceName} does not exist");
            }
            using (source)
            {
                var length = RandomAccess.GetLength(source);
                if (!SupportsReflink || !FileOps.TryReflink(source, target, path))
                {
                    RandomAccess.SetLength(target, length);
                    FileOps.SparseCopy(source, target, length, path, cancellationToken);
                }
                if (sizeBytes > length)
                {
                    RandomAccess.SetLength(target, sizeBytes);
                }
            }
        });
    }

    /// <summary>Grows an image to <paramref name="sizeBytes"/>; never shrinks. Repeated: no change.</summary>
    public void Grow(string backendName, long sizeBytes)
    {
        var path = Layout.ImagePath(backendName);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        if (RandomAccess.GetLength(handle) < sizeBytes)
        {
            RandomAccess.SetLength(handle, sizeBytes);
            FileOps.Sync(handle, path);
        }
    }

    /// <summary>Deletes an image and syncs the directory. Repeated, or missing: does nothing.</summary>
    public void Delete(string backendName)
    {
        var path = Layout.ImagePath(backendName);
        if (!File.Exists(path))
        {
            return;
        }
        File.Delete(path);
        _faults.Reached("image.delete.after-unlink");
        FileOps.SyncDirectory(Layout.Directory);
    }

    /// <summary>
    /// Writes a new image under .incoming with its record, syncs it, and renames it into place unless one is there
    /// already.
    /// </summary>
    private void Publish(string backendName, UnixFileMode mode, PortableRecord record, Action<SafeFileHandle, string> write)
    {
        var final = Layout.ImagePath(backendName);
        if (File.Exists(final))
        {
            return;
        }
        var incoming = Layout.IncomingPath(backendName);
        try
        {
            using (var handle = File.OpenHandle(incoming, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                       FileOptions.None, 0))
            {
                write(handle, incoming);
                ImageRecords.Write(handle, incoming, record);
                _faults.Reached("image.create.written");
                FileOps.Sync(handle, incoming);
            }
            File.SetUnixFileMode(incoming, mode);
            File.Move(incoming, final, overwrite: false);
            _faults.Reached("image.create.renamed");
            FileOps.SyncDirectory(Layout.Directory);
        }
        finally
        {
            File.Delete(incoming);
        }
    }

    /// <summary>Half-written images of a previous run are never finished: they are removed at start.</summary>
    private void ClearIncoming()
    {
        foreach (var file in Directory.EnumerateFiles(Layout.IncomingDirectory))
        {
            File.Delete(file);
        }
    }

    private bool ProbeReflink()
    {
        var a = Path.Combine(Layout.IncomingDirectory, $"reflink-probe-{Guid.NewGuid():N}");
        var b = a + ".clone";
        try
        {
            using var source = File.OpenHandle(a, FileMode.CreateNew, FileAccess.ReadWrite);
            RandomAccess.Write(source, new byte[4096], 0);
            using var target = File.OpenHandle(b, FileMode.CreateNew, FileAccess.ReadWrite);
            return FileOps.TryReflink(source, target, a);
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }
}
