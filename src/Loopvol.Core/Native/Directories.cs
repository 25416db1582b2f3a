using System.Runtime.InteropServices;

namespace Loopvol.Core.Native;

/// <summary>Directory calls .NET does not offer.</summary>
public static partial class Directories
{
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC, the same on every architecture

    /// <summary>fsync(2) of a directory, so a rename or unlink in it is durable.</summary>
    public static void Sync(string directory)
    {
        var fd = (int)Errno.Check(Open(directory, OpenReadOnlyCloseOnExec), "open", directory);
        try
        {
            Errno.Check(Fsync(fd), "fsync", directory);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
