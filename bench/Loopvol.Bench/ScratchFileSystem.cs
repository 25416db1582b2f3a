using System.Diagnostics;

namespace Loopvol.Bench;

/// <summary>
/// A scratch file system on a loop device for a benchmark run (XFS with reflink=1 by default), removed afterwards.
/// Like the test fixtures, it uses the command-line tools; the driver itself does not.
/// </summary>
internal sealed class ScratchFileSystem : IDisposable
{
    private readonly string _image;
    private readonly string _device;

    public ScratchFileSystem(string type, long sizeBytes)
    {
        _image = Path.Combine(Path.GetTempPath(), $"loopvol-bench-{Guid.NewGuid():N}.img");
        MountPoint = _image[..^4] + ".mnt";
        using (var file = File.Create(_image))
        {
            file.SetLength(sizeBytes);
        }
        _device = Run("losetup", "--find", "--show", _image).Trim();
        File.Delete(_image);
        Run(type == "xfs" ? "mkfs.xfs" : "mkfs.ext4", type == "xfs" ? ["-q", "-f", "-m", "reflink=1", _device] : ["-q", "-F", _device]);
        Directory.CreateDirectory(MountPoint);
        Run("mount", _device, MountPoint);
    }

    public string MountPoint { get; }

    public void Dispose()
    {
        Run("umount", MountPoint);
        Run("losetup", "-d", _device);
        Directory.Delete(MountPoint);
    }

    private static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{file} failed: {error}");
    }
}
