using Loopvol.NodeHost.Commands;

namespace Loopvol.NodeHost.FileSystems;

/// <summary>Making and growing file systems, through the command wrapper.</summary>
public static class FileSystemTools
{
    /// <summary>Makes <paramref name="fsType"/> on a blank device, with options that make it fast on a large sparse image.</summary>
    public static Task FormatAsync(string device, string fsType, CancellationToken cancellationToken) => fsType switch
    {
        "ext4" => CommandRunner.RunAsync("mkfs.ext4",
            ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", device], cancellationToken),
        // No -f: mkfs.xfs itself refuses a device that already holds a file system.
        "xfs" => CommandRunner.RunAsync("mkfs.xfs", ["-q", "-K", device], cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(fsType), fsType, "ext4 or xfs"),
    };

    /// <summary>Grows a mounted file system to fill its device.</summary>
    public static Task GrowAsync(string device, string mountPoint, string fsType, CancellationToken cancellationToken) =>
        fsType switch
        {
            "ext4" => CommandRunner.RunAsync("resize2fs", [device], cancellationToken),
            "xfs" => CommandRunner.RunAsync("xfs_growfs", ["-d", mountPoint], cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(fsType), fsType, "ext4 or xfs"),
        };
}
