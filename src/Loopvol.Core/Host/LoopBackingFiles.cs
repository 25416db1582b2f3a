using System.IO.Enumeration;

namespace Loopvol.Core.Host;

/// <summary>
/// Which loop device holds which file, as the kernel shows it in /sys/devices/virtual/block/loop*/loop/backing_file
/// (what /sys/block/loop* links to). DeleteVolume asks this on every call, so it stays cheap: the directory entries
/// are real directories (no stat each, as following /sys/block's links would need), and an idle device, which has no
/// loop/ directory, costs one failed stat rather than an exception.
/// </summary>
public static class LoopBackingFiles
{
    public const string VirtualBlock = "/sys/devices/virtual/block";

    /// <summary>Device path → backing file, for every bound loop device.</summary>
    public static IReadOnlyDictionary<string, string> Read(string virtualBlock = VirtualBlock)
    {
        var bound = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(virtualBlock))
        {
            return bound;
        }
        var devices = new FileSystemEnumerable<string>(virtualBlock,
            (ref FileSystemEntry entry) => entry.FileName.ToString())
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
                entry.FileName.StartsWith("loop", StringComparison.Ordinal) && entry.IsDirectory &&
                !entry.Attributes.HasFlag(FileAttributes.ReparsePoint),
        };
        foreach (var name in devices)
        {
            var file = Path.Join(virtualBlock, name, "loop", "backing_file");
            if (!File.Exists(file))
            {
                continue;
            }
            try
            {
                var backing = File.ReadAllText(file).TrimEnd('\n');
                if (backing.Length > 0)
                {
                    bound["/dev/" + name] = backing;
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                // Detached while we looked.
            }
        }
        return bound;
    }

    /// <summary>The loop devices that hold <paramref name="path"/> (normally none or one).</summary>
    public static IReadOnlyList<string> Holding(string path, string virtualBlock = VirtualBlock) =>
        Read(virtualBlock).Where(p => p.Value == path).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
}
