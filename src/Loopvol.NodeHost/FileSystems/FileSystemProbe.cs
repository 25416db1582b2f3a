namespace Loopvol.NodeHost.FileSystems;

/// <summary>What a block device holds, read from its first bytes: ext2/3/4, XFS, nothing, or something else.</summary>
public static class FileSystemProbe
{
    public const string Blank = "";
    public const string Unknown = "unknown";
    private const int Window = 64 * 1024;

    public static string Detect(string device)
    {
        var head = new byte[Window];
        using (var handle = File.OpenHandle(device, FileMode.Open, FileAccess.Read))
        {
            var read = RandomAccess.Read(handle, head, 0);
            if (read < 2048)
            {
                return Unknown;
            }
        }
        if (head.AsSpan(0, 4).SequenceEqual("XFSB"u8))
        {
            return "xfs";
        }
        if (head[1080] == 0x53 && head[1081] == 0xEF)
        {
            return "ext4"; // ext2/3/4 share the magic; the driver only ever makes ext4.
        }
        return head.AsSpan().IndexOfAnyExcept((byte)0) < 0 ? Blank : Unknown;
    }
}
