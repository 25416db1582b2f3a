using System.Runtime.InteropServices;
using Loopvol.Core.Native;

namespace Loopvol.Core.Host;

/// <summary>
/// An exclusive flock(2) on a file in a directory, held for the life of the process: two drivers never share a
/// data directory, so start-up repairs can never race another driver's work. The kernel drops the lock when the
/// process dies, however it dies.
/// </summary>
public sealed partial class DirectoryLock : IDisposable
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private readonly FileStream _file;

    private DirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock, or throws <see cref="IOException"/> saying that another process holds it.</summary>
    public static DirectoryLock Acquire(string directory)
    {
        var path = Path.Combine(directory, "lock");
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        catch (IOException e) when (File.Exists(path))
        {
            // .NET takes a shared flock of its own when it opens a file; an exclusive holder makes that fail here.
            throw new IOException($"another loopvol process is using the data directory {directory}", e);
        }
        if (Flock(file.SafeFileHandle, LockExclusive | LockNonBlocking) != 0)
        {
            var errno = Errno.Last;
            file.Dispose();
            throw new IOException(errno == 11 // EWOULDBLOCK
                ? $"another loopvol process is using the data directory {directory}"
                : $"cannot lock {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return new DirectoryLock(file);
    }

    public void Dispose() => _file.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(Microsoft.Win32.SafeHandles.SafeFileHandle fd, int operation);
}
