namespace Loopvol.Core.Native;

/// <summary>What statvfs(2) says of the file system holding a path.</summary>
public readonly record struct FileSystemStats(long TotalBytes, long FreeBytes, long AvailableBytes, long BlockSize,
    long TotalInodes, long FreeInodes)
{
    public static unsafe FileSystemStats Of(string path)
    {
        var buffer = stackalloc ulong[16];
        Errno.Check(Libc.Statvfs(path, buffer), "statvfs", path);
        // struct statvfs on 64-bit Linux: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, ...
        var fragment = (long)buffer[1];
        return new FileSystemStats((long)buffer[2] * fragment, (long)buffer[3] * fragment, (long)buffer[4] * fragment,
            (long)buffer[0], (long)buffer[5], (long)buffer[6]);
    }
}
