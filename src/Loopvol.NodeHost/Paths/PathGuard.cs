using Loopvol.Core.Errors;

namespace Loopvol.NodeHost.Paths;

/// <summary>
/// Which request paths the node may use at all: never the driver's own data or pool directory, anything inside
/// them, or a directory that holds them (mounting there would hide them), checked by name and, while the path is
/// walked, by identity (so another name for the same directory, such as a bind mount of it, is refused too).
/// </summary>
public sealed class PathGuard
{
    private readonly IReadOnlyList<string> _protected;
    private readonly Lazy<HashSet<(uint, uint, ulong)>> _identities;

    /// <param name="protectedDirectories">The data and pool directories (absolute).</param>
    public PathGuard(params string[] protectedDirectories)
    {
        _protected = protectedDirectories.Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))).Distinct().ToList();
        _identities = new Lazy<HashSet<(uint, uint, ulong)>>(() =>
            _protected.Select(PathCalls.IdentityOf).OfType<(uint, uint, ulong)>().ToHashSet());
    }

    /// <summary>
    /// Opens a request path for the node, refusing (<see cref="InvalidArgumentException"/>, naming the field) one
    /// that is or holds or lies inside a protected directory, or runs through a link.
    /// </summary>
    public PinnedPath Open(string path, string field, bool createParents)
    {
        foreach (var directory in _protected)
        {
            if (Overlaps(path, directory))
            {
                throw new InvalidArgumentException(
                    $"{field} '{path}' {(IsWithin(path, directory) ? "lies inside" : "holds")} the driver's own directory {directory}");
            }
        }
        var identities = _identities.Value;
        return PinnedPath.Open(path, field, createParents, (stat, walked) =>
        {
            if (stat.IsDirectory && identities.Contains(stat.Identity))
            {
                throw new InvalidArgumentException($"{field} '{path}': {walked} is the driver's own directory");
            }
        });
    }

    /// <summary>True when one path is the other or lies inside it, either way round.</summary>
    public static bool Overlaps(string a, string b) => IsWithin(a, b) || IsWithin(b, a);

    /// <summary>True when <paramref name="path"/> is <paramref name="directory"/> or lies inside it.</summary>
    public static bool IsWithin(string path, string directory) =>
        path == directory || directory == "/" ||
        (path.StartsWith(directory, StringComparison.Ordinal) && path.Length > directory.Length && path[directory.Length] == '/');
}
