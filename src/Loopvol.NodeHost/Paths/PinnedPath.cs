using Loopvol.Core.Errors;
using Loopvol.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Loopvol.NodeHost.Paths;

/// <summary>
/// A path from a request, walked from / one component at a time with O_PATH|O_NOFOLLOW: a symbolic link anywhere
/// on it is refused, and what was opened stays pinned by descriptor, so the node acts on exactly the object it
/// checked (mount and bind through <see cref="ProcPath"/>, unmount and remove through the parent and the last name)
/// even if a name on the path is swapped meanwhile. Dispose closes both descriptors.
/// </summary>
public sealed class PinnedPath : IDisposable
{
    private PinnedPath(string path, string field, SafeFileHandle parent, string name, SafeFileHandle? handle)
    {
        Path = path;
        Field = field;
        Parent = parent;
        Name = name;
        Handle = handle;
    }

    /// <summary>The path as asked (absolute and clean).</summary>
    public string Path { get; }

    /// <summary>The request field the path came from, for error messages.</summary>
    public string Field { get; }

    /// <summary>The directory that holds the last component.</summary>
    internal SafeFileHandle Parent { get; }

    /// <summary>The last component's name.</summary>
    public string Name { get; }

    /// <summary>The last component itself; null when it does not exist.</summary>
    internal SafeFileHandle? Handle { get; private set; }

    public bool Exists => Handle is not null;

    /// <summary>What the last component is now (it must exist).</summary>
    public PathStat Stat() => PathCalls.Stat(Handle ?? throw new InvalidOperationException($"{Path} does not exist"), Path);

    /// <summary>A path naming exactly the opened last component, for mount(2).</summary>
    public string ProcPath => PathCalls.ProcPath(Handle ?? throw new InvalidOperationException($"{Path} does not exist"));

    /// <summary>A path naming the last component by name inside the pinned parent, for umount2 with UMOUNT_NOFOLLOW.</summary>
    public string ByParent => $"{PathCalls.ProcPath(Parent)}/{Name}";

    /// <summary>
    /// Opens <paramref name="path"/>. Missing directories on the way are created (0750) when
    /// <paramref name="createParents"/> is set; a missing last component is allowed (not <see cref="Exists"/>).
    /// Every directory passed through is shown to <paramref name="visit"/> (by identity) so callers can refuse paths
    /// that run through protected directories. A link, or a non-directory on the way: <see cref="InvalidArgumentException"/>.
    /// </summary>
    public static PinnedPath Open(string path, string field, bool createParents, Action<PathStat, string>? visit = null)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new InvalidArgumentException($"{field} '{path}' is the root directory");
        }
        var current = PathCalls.OpenRoot();
        var walked = "";
        try
        {
            visit?.Invoke(PathCalls.Stat(current, "/"), "/");
            for (var i = 0; i < parts.Length - 1; i++)
            {
                walked += "/" + parts[i];
                var next = OpenComponent(current, parts[i], walked, field, createParents)
                           ?? throw new NotFoundException($"{field} '{path}': {walked} does not exist");
                current.Dispose();
                current = next;
                var stat = PathCalls.Stat(current, walked);
                if (!stat.IsDirectory)
                {
                    throw new InvalidArgumentException($"{field} '{path}': {walked} is not a directory");
                }
                visit?.Invoke(stat, walked);
            }
            var last = OpenComponent(current, parts[^1], path, field, create: false);
            try
            {
                if (last is not null)
                {
                    visit?.Invoke(PathCalls.Stat(last, path), path);
                }
            }
            catch
            {
                last?.Dispose();
                throw;
            }
            return new PinnedPath(path, field, current, parts[^1], last);
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>Creates the last component as an empty directory (or regular file) if it is missing, then pins it.</summary>
    public void Create(bool directory)
    {
        if (Handle is not null)
        {
            return;
        }
        var errno = directory ? PathCalls.MakeDirectory(Parent, Name) : PathCalls.CreateFile(Parent, Name);
        if (errno is not (0 or Errno.EEXIST))
        {
            throw Errno.Failure(directory ? "mkdirat" : "openat(O_CREAT)", Path, errno);
        }
        Reopen();
        if (Handle is null)
        {
            throw new PreconditionFailedException($"{Field} '{Path}' vanished while it was being created");
        }
    }

    /// <summary>Opens the last component again, by name under the pinned parent: it now shows what is mounted on top.</summary>
    public void Reopen()
    {
        Handle?.Dispose();
        Handle = OpenComponent(Parent, Name, Path, Field, create: false);
    }

    /// <summary>Closes the last component's descriptor (the parent stays pinned); <see cref="Reopen"/> opens it again.</summary>
    public void Release()
    {
        Handle?.Dispose();
        Handle = null;
    }

    /// <summary>
    /// Removes the last component if it is an empty directory or an empty regular file that is not a mount point;
    /// anything else is left alone. Returns whether it was removed (or was already gone).
    /// </summary>
    public bool RemoveIfEmpty()
    {
        if (Handle is null)
        {
            return true;
        }
        var stat = Stat();
        if (stat.IsMountRoot || !(stat.IsDirectory || (stat.IsRegularFile && stat.Size == 0)))
        {
            return false;
        }
        var errno = PathCalls.Remove(Parent, Name, stat.IsDirectory);
        if (errno is 0 or Errno.ENOENT)
        {
            Handle.Dispose();
            Handle = null;
            return true;
        }
        return errno is Errno.ENOTEMPTY or Errno.EBUSY ? false : throw Errno.Failure("unlinkat", Path, errno);
    }

    public void Dispose()
    {
        Handle?.Dispose();
        Parent.Dispose();
    }

    private static SafeFileHandle? OpenComponent(SafeFileHandle directory, string name, string walked, string field, bool create)
    {
        var handle = PathCalls.OpenPath(directory, name, out var errno);
        if (handle is null && errno == Errno.ENOENT && create)
        {
            var made = PathCalls.MakeDirectory(directory, name);
            if (made is not (0 or Errno.EEXIST))
            {
                throw Errno.Failure("mkdirat", walked, made);
            }
            handle = PathCalls.OpenPath(directory, name, out errno);
        }
        if (handle is null)
        {
            return errno == Errno.ENOENT ? null : throw Errno.Failure("openat", walked, errno);
        }
        if (PathCalls.Stat(handle, walked).IsSymlink)
        {
            handle.Dispose();
            throw new InvalidArgumentException($"{field}: {walked} is a symbolic link; links are never followed");
        }
        return handle;
    }
}
