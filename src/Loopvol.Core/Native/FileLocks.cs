using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>flock(2), and reading a file another process holds locked (.NET's own file opening takes a shared flock).</summary>
public static class FileLocks
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int EWouldBlock = 11;

    /// <summary>Takes an exclusive lock without waiting: true when taken, false when another process holds one.</summary>
    public static bool TryLockExclusive(SafeFileHandle file, string subject)
    {
        if (Libc.Flock(file, LockExclusive | LockNonBlocking) == 0)
        {
            return true;
        }
        var errno = Errno.Last;
        return errno == EWouldBlock ? false : throw Errno.Failure("flock", subject, errno);
    }

    /// <summary>
    /// The first <paramref name="maxBytes"/> bytes of a file as UTF-8, read with open(2) and read(2) so that no lock
    /// is asked for; null when the file cannot be read.
    /// </summary>
    public static string? ReadUnlocked(string path, int maxBytes = 4096)
    {
        var fd = Libc.Open(path, Libc.ORdonly | Libc.OCloexec);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            var buffer = new byte[maxBytes];
            var read = Libc.Read(fd, buffer, (nuint)buffer.Length);
            return read < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)read);
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }
}
