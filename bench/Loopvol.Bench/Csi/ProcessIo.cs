using System.Globalization;

namespace Loopvol.Bench.Csi;

/// <summary>
/// What a process read, from <c>/proc/PID/io</c>: <c>rchar</c> (every byte its read calls returned, page cache
/// included) and <c>read_bytes</c> (what it made the storage read). The process is the one listening on a Unix
/// socket, found through <c>/proc/net/unix</c> and the socket inodes of <c>/proc/*/fd</c>.
/// </summary>
internal sealed record ProcessIo(long ReadChars, long ReadBytes)
{
    public static ProcessIo Of(int pid)
    {
        var values = File.ReadAllLines($"/proc/{pid}/io").Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0].Trim(), p => long.Parse(p[1].Trim(), CultureInfo.InvariantCulture));
        return new ProcessIo(values["rchar"], values["read_bytes"]);
    }

    public static ProcessIo operator -(ProcessIo a, ProcessIo b) => new(a.ReadChars - b.ReadChars, a.ReadBytes - b.ReadBytes);

    /// <summary>The process listening on the Unix socket at <paramref name="path"/>; null when none is found.</summary>
    public static int? ListeningOn(string path)
    {
        var inode = File.ReadLines("/proc/net/unix").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 8 && f[7] == path && f[5] == "01").Select(f => f[6]).FirstOrDefault();
        if (inode is null)
        {
            return null;
        }
        var wanted = $"socket:[{inode}]";
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd"))
                    .Any(fd => new FileInfo(fd).LinkTarget == wanted))
                {
                    return int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process that ended meanwhile, or one we may not look into.
            }
        }
        return null;
    }

    /// <summary>Writes dirty pages and drops the page cache, so the next reads come from the storage.</summary>
    public static void DropCaches()
    {
        using (var sync = System.Diagnostics.Process.Start("sync"))
        {
            sync!.WaitForExit();
        }
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
    }
}
