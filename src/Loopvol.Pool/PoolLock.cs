using Loopvol.Core.Host;

namespace Loopvol.Pool;

/// <summary>
/// The pool directory's own lock (<c>.lock</c> in it): held by the serving driver for its life, and by every
/// operator command that deletes or replaces (<c>journal gc --apply</c>, <c>journal rebuild</c>). So two drivers
/// with different data directories never share a pool, and nothing deletes an image a driver may be using.
/// </summary>
public static class PoolLock
{
    public const string FileName = ".lock";

    /// <summary>
    /// Takes the lock, creating the pool directory if needed; <paramref name="role"/> says who holds it (written into
    /// the lock file). Held elsewhere: <see cref="IOException"/> naming the holder.
    /// </summary>
    public static DirectoryLock Acquire(PoolLayout layout, string role)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Directory.CreateDirectory(layout.Directory);
        return DirectoryLock.Acquire(layout.Directory, FileName, "pool directory", DirectoryLock.Describe(role));
    }
}
