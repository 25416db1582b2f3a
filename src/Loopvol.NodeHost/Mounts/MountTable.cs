namespace Loopvol.NodeHost.Mounts;

/// <summary>One line of /proc/self/mountinfo.</summary>
public sealed record MountEntry(string MountPoint, string Source, string FsType, string Options, string Root, string Device,
    ulong Id = 0);

/// <summary>What is mounted, as the kernel says in /proc/self/mountinfo (octal escapes decoded).</summary>
public static class MountTable
{
    public static IReadOnlyList<MountEntry> Read(string path = "/proc/self/mountinfo")
    {
        var entries = new List<MountEntry>();
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-");
            if (fields.Length < 10 || separator < 6)
            {
                continue;
            }
            entries.Add(new MountEntry(Unescape(fields[4]), Unescape(fields[separator + 2]), fields[separator + 1],
                fields[5], Unescape(fields[3]), fields[2], ulong.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture)));
        }
        return entries;
    }

    /// <summary>The last (top-most) mount at <paramref name="mountPoint"/>, or null.</summary>
    public static MountEntry? At(string mountPoint, IReadOnlyList<MountEntry>? table = null) =>
        (table ?? Read()).LastOrDefault(e => e.MountPoint == mountPoint);

    /// <summary>The mount with kernel mount ID <paramref name="id"/> (as statx's STATX_MNT_ID gives it), or null.</summary>
    public static MountEntry? ById(ulong id) => Read().FirstOrDefault(e => e.Id == id);

    private static string Unescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }
        var sb = new System.Text.StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length)
            {
                sb.Append((char)Convert.ToInt32(text.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(text[i]);
            }
        }
        return sb.ToString();
    }
}
