using Loopvol.Core.Faults;
using Loopvol.Journal.Model;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Pool.Internal;

/// <summary>
/// A new image under <c>.incoming/</c>, written with its record, until it is renamed into place; dropped (the file
/// removed) when it never is. Whether it is synced, and whether the directory is synced after the rename, is the
/// caller's budget (docs/durability.md).
/// </summary>
internal sealed class IncomingImage : IDisposable
{
    private readonly string _final;
    private bool _placed;

    private IncomingImage(string path, string final)
    {
        Path = path;
        _final = final;
    }

    public string Path { get; }

    /// <summary>
    /// Creates the file, lets <paramref name="write"/> fill it, writes the record on it and, when
    /// <paramref name="sync"/>, syncs it. Fault point <c>image.create.written</c>, before the sync. On failure
    /// nothing is left.
    /// </summary>
    public static IncomingImage Write(PoolLayout layout, string backendName, UnixFileMode mode, PortableRecord record,
        Action<SafeFileHandle, string> write, bool sync, IFaultInjector faults)
    {
        var image = new IncomingImage(layout.IncomingPath(backendName), layout.ImagePath(backendName));
        try
        {
            using (var handle = File.OpenHandle(image.Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                       FileOptions.None, 0))
            {
                write(handle, image.Path);
                ImageRecords.Write(handle, image.Path, record);
                faults.Reached("image.create.written");
                if (sync)
                {
                    FileOps.Sync(handle, image.Path);
                }
            }
            File.SetUnixFileMode(image.Path, mode);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Renames the image to its finished name (the directory is not synced). An image already there stays, and
    /// this is an <see cref="IOException"/>, unless <paramref name="replace"/>.
    /// </summary>
    public void Place(bool replace = false)
    {
        File.Move(Path, _final, replace);
        _placed = true;
    }

    public void Dispose()
    {
        if (!_placed)
        {
            File.Delete(Path);
        }
    }
}
