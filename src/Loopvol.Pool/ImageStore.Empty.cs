using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Journal.Model;
using Loopvol.Pool.Internal;

namespace Loopvol.Pool;

/// <summary>
/// Empty volumes' images: sparse files that hold no data, written without any fsync (docs/durability.md). A crash
/// may lose one; it is then made again from its journal record, which is all it holds.
/// </summary>
public sealed partial class ImageStore
{
    /// <summary>
    /// Writes an empty sparse image of <paramref name="sizeBytes"/> with its record under .incoming, not synced;
    /// the caller records it and then places it (<see cref="IncomingImage.Place"/>), or drops it. No room is
    /// <see cref="ResourceExhaustedException"/>, a size the file system cannot hold <see cref="OutOfRangeException"/>;
    /// either way nothing is left behind.
    /// </summary>
    internal IncomingImage PrepareEmpty(string backendName, long sizeBytes, PortableRecord record)
    {
        IncomingImage? image = null;
        Writing($"create {backendName}", sizeBytes, () => image = IncomingImage.Write(Layout, backendName, VolumeMode,
            record, (handle, path) => FileOps.SetLength(handle, sizeBytes, path), sync: false, _faults));
        return image!;
    }

    /// <summary>
    /// Makes the empty image of <paramref name="backendName"/> again, replacing whatever is at its name, not synced.
    /// Only for an image that never held data: one a crash lost before it reached the disk.
    /// </summary>
    internal static void WriteEmpty(PoolLayout layout, string backendName, long sizeBytes, PortableRecord record)
    {
        using var image = IncomingImage.Write(layout, backendName, VolumeMode, record,
            (handle, path) => FileOps.SetLength(handle, sizeBytes, path), sync: false, NoFaults.Instance);
        image.Place(replace: true);
    }

    /// <summary>
    /// Syncs an image and then the pool directory, so the image and its name are on disk. A missing image is
    /// <see cref="FileNotFoundException"/>.
    /// </summary>
    internal static void SyncImage(PoolLayout layout, string backendName)
    {
        var path = layout.ImagePath(backendName);
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            FileOps.Sync(handle, path);
        }
        Core.Native.Directories.Sync(layout.Directory);
    }
}
