using Loopvol.Core.Native;

namespace Loopvol.Tests.Support;

/// <summary>
/// Fills a file system to the last block, as root (so ext4's blocks reserved for root go too): one large
/// preallocated file, then small writes until the file system refuses. Dispose deletes the filler and so frees it.
/// </summary>
public sealed class Filler : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly string _directory;

    private Filler(string directory) => _directory = directory;

    /// <summary>Bytes the file system still has free (for root) after filling; a few blocks at most.</summary>
    public long FreeBytes => FileSystemStats.Of(_directory).FreeBytes;

    public static async Task<Filler> FillAsync(string mountPoint)
    {
        var filler = new Filler(Directory.CreateDirectory(Path.Combine(mountPoint, "filler")).FullName);
        var size = FileSystemStats.Of(mountPoint).FreeBytes;
        var big = Path.Combine(filler._directory, "big");
        while (size > MiB)
        {
            var (code, _) = await Processes.RunExpectingFailureAsync("fallocate", ["-l", size.ToString(System.Globalization.CultureInfo.InvariantCulture), big]);
            if (code == 0)
            {
                break;
            }
            size -= 4 * MiB;
        }
        // The tail: whatever is left, one block at a time, in files small enough for the last free inodes.
        var block = new byte[4096];
        for (var i = 0; ; i++)
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine(filler._directory, $"tail-{i}"), FileMode.CreateNew,
                    FileAccess.Write);
                for (long offset = 0; offset < 64 * MiB; offset += block.Length)
                {
                    RandomAccess.Write(handle, block, offset);
                }
                RandomAccess.FlushToDisk(handle);
            }
            catch (IOException)
            {
                break;
            }
        }
        return filler;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
