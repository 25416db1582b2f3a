using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.Core.Native;

/// <summary>flock(2), and reading a file another process holds locked (.NET's own file opening takes a shared flock).</summary>
public static partial class FileLocks
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int EWouldBlock = 11;
    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC

    /// <summary>Takes an exclusive lock without waiting: true when taken, false when another process holds one.</summary>
    public static bool TryLockExclusive(SafeFileHandle file, string subject)
    {
        if (Flock(file, LockExclusive | LockNonBlocking) == 0)
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
        var fd = Open(path, OpenReadOnlyCloseOnExec);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            var buffer = new byte[maxBytes];
            var read = Read(fd, buffer, (nuint)buffer.Length);
            return read < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)read);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, Span<byte> buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
