namespace Loopvol.Tests.Support;

/// <summary>
/// A real file system on a real loop device, mounted under a temp directory: XFS with reflink=1 (copies share
/// extents; <c>reflink: false</c> makes it without) or ext4 (copies fall back to sparse copies). Test fixtures may use the command-line tools; the
/// driver itself does not. Dispose unmounts and detaches it.
/// </summary>
public sealed class LoopFileSystem : IDisposable
{
    private readonly TempDirectory _dir = new();

    private LoopFileSystem(string type, string device)
    {
        Type = type;
        Device = device;
        MountPoint = Directory.CreateDirectory(_dir.Combine("mnt")).FullName;
    }

    public string Type { get; }

    public string Device { get; }

    public string MountPoint { get; }

    public static async Task<LoopFileSystem> CreateAsync(string type, long sizeBytes = 2L << 30, bool reflink = true)
    {
        Privileged.Require();
        var image = Path.Combine(Path.GetTempPath(), $"loopvol-fs-{Guid.NewGuid():N}.img");
        await using (var file = File.Create(image))
        {
            file.SetLength(sizeBytes);
        }
        string device;
        try
        {
            device = (await Processes.RunAsync("losetup", ["--find", "--show", image])).Trim();
        }
        finally
        {
            File.Delete(image); // The loop device keeps the (now unlinked) file alive until it is detached.
        }
        var fs = new LoopFileSystem(type, device);
        try
        {
            await Processes.RunAsync(type == "xfs" ? "mkfs.xfs" : "mkfs.ext4",
                type == "xfs" ? ["-q", "-f", "-m", reflink ? "reflink=1" : "reflink=0", device] : ["-q", "-F", device]);
            await Processes.RunAsync("mount", [device, fs.MountPoint]);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
        return fs;
    }

    public void Dispose()
    {
        Run("umount", MountPoint);
        Run("losetup", "-d", Device);
        _dir.Dispose();
    }

    private static void Run(string file, params string[] args)
    {
        try
        {
            Processes.RunAsync(file, args).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // Not mounted, or already detached.
        }
    }
}
