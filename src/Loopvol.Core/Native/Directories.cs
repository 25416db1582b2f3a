namespace Loopvol.Core.Native;

/// <summary>Directory calls .NET does not offer.</summary>
public static class Directories
{
    /// <summary>fsync(2) of a directory, so a rename or unlink in it is durable.</summary>
    public static void Sync(string directory)
    {
        var fd = (int)Errno.Check(Libc.Open(directory, Libc.ORdonly | Libc.OCloexec), "open", directory);
        try
        {
            Errno.Check(Libc.Fsync(fd), "fsync", directory);
            Diagnostics.DriverMeters.DirectorySynced();
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }
}
