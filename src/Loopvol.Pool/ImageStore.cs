using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Native;
using Loopvol.Journal.Model;
using Loopvol.Pool.Internal;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool;

/// <summary>
/// The pool's image files. A new image is written under <c>.incoming/</c> with its record (<see cref="ImageRecords"/>)
/// and renamed into place, so a finished name only ever holds a complete image that says what it is. An image that
/// holds data is synced, and its directory too, before the rename is reported; an empty one is not
/// (<see cref="PrepareEmpty"/>, docs/durability.md). Copies are reflinks where the file system shares extents, else
/// sparse copies that skip holes. Each method says what a repeat does.
/// </summary>
public sealed partial class ImageStore
{
    internal const UnixFileMode VolumeMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode SnapshotMode = UnixFileMode.UserRead;
    private const int Unknown = 0, Reflinks = 1, SparseCopies = 2;
    private readonly IFaultInjector _faults;
    private int _copies;

    public ImageStore(PoolLayout layout, IFaultInjector? faults = null)
    {
        Layout = layout;
        _faults = faults ?? NoFaults.Instance;
        Directory.CreateDirectory(layout.Directory);
        Directory.CreateDirectory(layout.IncomingDirectory);
        ClearIncoming();
        ImageRecords.EnsureSupported(layout.IncomingDirectory);
        _copies = ProbeReflink();
    }

    public PoolLayout Layout { get; }

    /// <summary>
    /// Whether copies share extents (XFS with reflink=1, btrfs) or fall back to sparse copies (ext4); null while
    /// unknown (a full pool left the probe no room for its two empty files), until the first copy tells.
    /// </summary>
    public bool? SupportsReflink => Volatile.Read(ref _copies) switch
    {
        Reflinks => true,
        SparseCopies => false,
        _ => null,
    };

    public bool Exists(string backendName) => File.Exists(Layout.ImagePath(backendName));

    /// <summary>The image's apparent size; null when there is none.</summary>
    public long? SizeOf(string backendName)
    {
        var file = new FileInfo(Layout.ImagePath(backendName));
        return file.Exists ? file.Length : null;
    }

    /// <summary>The bytes in an image's data regions (what a sparse copy of it writes); 0 without an image.</summary>
    public long DataBytes(string backendName)
    {
        var path = Layout.ImagePath(backendName);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            return FileOps.DataBytes(handle, RandomAccess.GetLength(handle), path);
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Creates <paramref name="targetName"/> as a copy of <paramref name="sourceName"/>, grown to
    /// <paramref name="sizeBytes"/> when that is larger. A read-only copy is a snapshot. Repeated: the existing
    /// image stays. A missing source is <see cref="NotFoundException"/>; no room is
    /// <see cref="ResourceExhaustedException"/>, a size the file system cannot hold <see cref="OutOfRangeException"/>;
    /// either way nothing is left behind.
    /// </summary>
    public void Copy(string sourceName, string targetName, long sizeBytes, bool readOnly, PortableRecord record,
        CancellationToken cancellationToken, bool durable = true)
    {
        var sourcePath = Layout.ImagePath(sourceName);
        Writing($"copy {sourceName} to {targetName}", sizeBytes, () => Publish(targetName,
            readOnly ? SnapshotMode : VolumeMode, record, durable, (target, path) =>
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
                var known = SupportsReflink;
                var reflinked = known != false && FileOps.TryReflink(source, target, path);
                if (known is null)
                {
                    Volatile.Write(ref _copies, reflinked ? Reflinks : SparseCopies);
                }
                if (!reflinked)
                {
                    FileOps.SetLength(target, length, path);
                    FileOps.SparseCopy(source, target, length, path, cancellationToken);
                }
                if (sizeBytes > length)
                {
                    FileOps.SetLength(target, sizeBytes, path);
                }
            }
        }));
    }

    /// <summary>
    /// Grows an image to <paramref name="sizeBytes"/>; never shrinks. Repeated: no change. A size the file system
    /// cannot hold is <see cref="OutOfRangeException"/>, and the image keeps its size.
    /// </summary>
    public void Grow(string backendName, long sizeBytes) => Writing($"grow {backendName}", sizeBytes, () =>
    {
        var path = Layout.ImagePath(backendName);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        if (RandomAccess.GetLength(handle) < sizeBytes)
        {
            FileOps.SetLength(handle, sizeBytes, path);
            FileOps.Sync(handle, path);
        }
    });

    /// <summary>
    /// Deletes an image, without syncing the directory: the caller syncs it (<see cref="SyncDirectory"/>), once for
    /// many deletes, before the records of what it deleted go. Repeated, or missing: does nothing. Fault point
    /// <c>image.delete.after-unlink</c>.
    /// </summary>
    public void Delete(string backendName)
    {
        var path = Layout.ImagePath(backendName);
        if (!File.Exists(path))
        {
            return;
        }
        File.Delete(path);
        _faults.Reached("image.delete.after-unlink");
    }

    /// <summary>
    /// fsync(2) of the pool directory: every rename and unlink in it before the call is on disk after it. Fault point
    /// <c>image.directory.before-sync</c>.
    /// </summary>
    public void SyncDirectory()
    {
        _faults.Reached("image.directory.before-sync");
        Directories.Sync(Layout.Directory);
    }

    /// <summary>
    /// Writes a new image under .incoming with its record, syncs it, and renames it into place unless one is there
    /// already, then syncs the directory: an image that holds data is on disk before anyone is told it exists.
    /// </summary>
    private void Publish(string backendName, UnixFileMode mode, PortableRecord record, bool durable, Action<SafeFileHandle, string> write)
    {
        if (Exists(backendName))
        {
            return;
        }
        using var incoming = IncomingImage.Write(Layout, backendName, mode, record, write, sync: durable, _faults);
        incoming.Place();
        _faults.Reached("image.create.renamed");
        if (durable)
        {
            Directories.Sync(Layout.Directory);
        }
    }

    /// <summary>
    /// Puts images copied with <c>durable: false</c> on disk: each file, then the pool directory once. Group members
    /// are copied that way while their volumes are frozen and made durable after the thaw, so no sync lengthens the
    /// freeze; their records are marked created only after this.
    /// </summary>
    public void MakeDurable(IEnumerable<string> backendNames)
    {
        ArgumentNullException.ThrowIfNull(backendNames);
        foreach (var name in backendNames)
        {
            var path = Layout.ImagePath(name);
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            FileOps.Sync(handle, path);
        }
        Directories.Sync(Layout.Directory);
    }

    /// <summary>Half-written images of a previous run are never finished: they are removed at start.</summary>
    private void ClearIncoming()
    {
        foreach (var file in Directory.EnumerateFiles(Layout.IncomingDirectory))
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// A step that writes to the pool: no room (ENOSPC, EDQUOT) becomes <see cref="ResourceExhaustedException"/>, a
    /// file larger than the file system allows (EFBIG) <see cref="OutOfRangeException"/>.
    /// </summary>
    private static void Writing(string what, long sizeBytes, Action step)
    {
        try
        {
            step();
        }
        catch (IOException e) when (Errno.IsNoSpace(e))
        {
            throw new ResourceExhaustedException($"the pool's file system has no room to {what}: {e.Message}");
        }
        catch (CommandFailedException e) when (e.ExitCode == Errno.EFBIG)
        {
            throw new OutOfRangeException(
                $"capacity_range: {sizeBytes} bytes is more than the pool's file system allows for one file ({what})");
        }
    }

    /// <summary>
    /// FICLONE between two empty files: it needs no data block. Without room even for their inodes (a full pool)
    /// the answer is left to the first copy, so a full pool never stops the driver from starting.
    /// </summary>
    private int ProbeReflink()
    {
        var a = Path.Combine(Layout.IncomingDirectory, $"reflink-probe-{Guid.NewGuid():N}");
        var b = a + ".clone";
        try
        {
            using var source = File.OpenHandle(a, FileMode.CreateNew, FileAccess.ReadWrite);
            using var target = File.OpenHandle(b, FileMode.CreateNew, FileAccess.ReadWrite);
            return FileOps.TryReflink(source, target, a) ? Reflinks : SparseCopies;
        }
        catch (Exception e) when (e is ResourceExhaustedException || (e is IOException io && Errno.IsNoSpace(io)))
        {
            return Unknown;
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }
}
