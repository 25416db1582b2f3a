using System.Security.Cryptography;
using Loopvol.Pool;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Pool;

/// <summary>A fresh journal and pool for each test, on a real file system mounted from a loop device.</summary>
public abstract class PoolOnFileSystem(string fsType) : OnLoopFileSystem(fsType)
{
    protected StoragePool Pool { get; set; } = null!;

    protected string PoolDirectory { get; private set; } = null!;

    [SetUp]
    public void OpenPool() => Pool = NewPool(new PoolOptions());

    [TearDown]
    public void ClosePool()
    {
        Pool.DrainDeletesAsync().GetAwaiter().GetResult();
        Pool.Journal.Dispose();
    }

    protected StoragePool NewPool(PoolOptions options)
    {
        PoolDirectory = Path.Combine(MountPoint, $"pool-{Guid.NewGuid():N}");
        var journal = Loopvol.Journal.Journal.Open(Path.Combine(PoolDirectory + ".journal.db"));
        return new StoragePool(journal, new ImageStore(new PoolLayout(PoolDirectory), options.Faults), options);
    }

    /// <summary>For a test that opens its own pool (and sets <see cref="Pool"/>) in another directory.</summary>
    protected void SetPoolDirectory(string directory) => PoolDirectory = directory;

    protected string ImagePath(object id) => Path.Combine(PoolDirectory, $"{id}.img");

    /// <summary>Writes <paramref name="bytes"/> at <paramref name="offset"/> into an image, durably.</summary>
    protected void Write(object id, long offset, byte[] bytes)
    {
        using var handle = File.OpenHandle(ImagePath(id), FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, bytes, offset);
        RandomAccess.FlushToDisk(handle);
    }

    protected string Checksum(object id)
    {
        using var stream = File.OpenRead(ImagePath(id));
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    protected static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Bytes the file system really allocated for a file (st_blocks × 512).</summary>
    public static long Allocated(string path) =>
        long.Parse(Processes.RunAsync("stat", ["-c", "%b", path]).GetAwaiter().GetResult().Trim(),
            System.Globalization.CultureInfo.InvariantCulture) * 512;
}
