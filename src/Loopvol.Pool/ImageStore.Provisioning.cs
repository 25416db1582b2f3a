using Loopvol.Pool.Internal;

namespace Loopvol.Pool;

/// <summary>Thick and thin images: reserving every block of an image, and giving back what was reserved but never written.</summary>
public sealed partial class ImageStore
{
    /// <summary>
    /// Reserves every block of the image on the pool's file system, so writes to it never meet a full pool: blocks it
    /// shares with snapshots or clones (reflinks) get copies of their own, and its holes get allocated, unwritten
    /// blocks (they still read as zeros). Its data does not change, so it may be attached meanwhile. No room:
    /// <see cref="Core.Errors.ResourceExhaustedException"/>, and what was reserved before the failure stays until
    /// <see cref="ReleaseUnwritten"/>. Repeated: no change.
    /// </summary>
    public void Reserve(string backendName) => Writing($"reserve the blocks of {backendName}", 0, () =>
    {
        var path = Layout.ImagePath(backendName);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return;
        }
        if (SupportsReflink != false)
        {
            FileOps.Unshare(handle, length, path);
        }
        FileOps.Allocate(handle, length, path);
        FileOps.Sync(handle, path);
    });

    /// <summary>
    /// Gives back the blocks of the image that hold no data: every range the file system reports as a hole (its
    /// reserved but never written blocks are reported so) is punched, which frees them and changes nothing that
    /// can be read. Only for an image that is not attached: a write meanwhile could land in a range about to be
    /// punched. Missing image: nothing. Repeated: no change.
    /// </summary>
    public void ReleaseUnwritten(string backendName) => ReleaseUnwrittenAt(Layout.ImagePath(backendName));

    /// <summary><see cref="ReleaseUnwritten"/> of the image at <paramref name="path"/> (for the node, once it detached it).</summary>
    public static void ReleaseUnwrittenAt(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        FileOps.PunchHoles(handle, RandomAccess.GetLength(handle), path);
        FileOps.Sync(handle, path);
    }

    /// <summary>Bytes the image holds on the file system (its allocated blocks, reserved or written); 0 without an image.</summary>
    public long AllocatedBytes(string backendName) => FileOps.AllocatedBytes(Layout.ImagePath(backendName));
}
