namespace Loopvol.Core.Host;

/// <summary>Which loop device holds which file, as the kernel shows it in /sys/block/loop*/loop/backing_file.</summary>
public static class LoopBackingFiles
{
    public const string SysBlock = "/sys/block";

    /// <summary>Device path → backing file, for every bound loop device.</summary>
    public static IReadOnlyDictionary<string, string> Read(string sysBlock = SysBlock)
    {
        var bound = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(sysBlock))
        {
            return bound;
        }
        foreach (var device in Directory.EnumerateDirectories(sysBlock, "loop*"))
        {
            var file = Path.Combine(device, "loop", "backing_file");
            try
            {
                var backing = File.ReadAllText(file).TrimEnd('\n');
                if (backing.Length > 0)
                {
                    bound["/dev/" + Path.GetFileName(device)] = backing;
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                // Not bound, or detached while we looked.
            }
        }
        return bound;
    }

    /// <summary>The loop devices that hold <paramref name="path"/> (normally none or one).</summary>
    public static IReadOnlyList<string> Holding(string path, string sysBlock = SysBlock) =>
        Read(sysBlock).Where(p => p.Value == path).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
}
