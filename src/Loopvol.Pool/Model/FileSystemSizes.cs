namespace Loopvol.Pool.Model;

/// <summary>What a volume's size must allow for the file system that will be made on it.</summary>
public static class FileSystemSizes
{
    /// <summary>The smallest device mkfs makes <paramref name="fsType"/> on (mkfs.xfs refuses less than 300 MB).</summary>
    public static long MinimumBytes(string? fsType) => fsType == "xfs" ? 300L * 1024 * 1024 : 0;
}
