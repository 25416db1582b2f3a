using System.Text;
using Loopvol.Core.Native;

namespace Loopvol.Core.Host;

/// <summary>
/// An exclusive flock(2) on a file in a directory, held for the life of the process: two drivers never share a
/// data directory or a pool, so start-up repairs can never race another driver's work. The kernel drops the lock
/// when the process dies, however it dies. The holder writes who it is into the file, so a process refused the lock
/// can name it.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    /// <summary>The lock file of a data directory.</summary>
    public const string DataFileName = "lock";

    private readonly FileStream _file;

    private DirectoryLock(FileStream file) => _file = file;

    /// <summary>What a holder writes of itself: this process, and what it does.</summary>
    public static string Describe(string role) => $"pid {Environment.ProcessId} ({role})";

    /// <summary>
    /// Takes the lock on <c>&lt;directory&gt;/&lt;fileName&gt;</c>, or throws <see cref="IOException"/> saying that
    /// another process holds it (and which, when it said). <paramref name="what"/> names the directory in messages
    /// ("data directory", "pool directory"); <paramref name="holder"/> is written into the file once locked.
    /// </summary>
    public static DirectoryLock Acquire(string directory, string fileName = DataFileName, string what = "data directory",
        string? holder = null)
    {
        var path = Path.Combine(directory, fileName);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        }
        catch (IOException e) when (File.Exists(path))
        {
            // .NET takes a shared flock of its own when it opens a file; an exclusive holder makes that fail here.
            throw new IOException(Refusal(path, directory, what), e);
        }
        bool locked;
        try
        {
            locked = FileLocks.TryLockExclusive(file.SafeFileHandle, path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        if (!locked)
        {
            file.Dispose();
            throw new IOException(Refusal(path, directory, what));
        }
        if (holder is not null)
        {
            file.SetLength(0);
            file.Write(Encoding.UTF8.GetBytes(holder + "\n"));
            file.Flush();
        }
        return new DirectoryLock(file);
    }

    public void Dispose() => _file.Dispose();

    private static string Refusal(string path, string directory, string what) =>
        $"another loopvol process is using the {what} {directory}" +
        (FileLocks.ReadUnlocked(path)?.Trim() is { Length: > 0 } holder ? $": it is held by {holder}" : "");
}
