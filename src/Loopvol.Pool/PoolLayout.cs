using Loopvol.Core.Ids;

namespace Loopvol.Pool;

/// <summary>
/// Where things live in the pool directory: a finished object is <c>&lt;backend name&gt;.img</c> (the backend name
/// is its ID, e.g. <c>vol-…</c>); objects being written are under <c>.incoming/</c> until they are renamed into
/// place, so a name in the pool always means a complete image.
/// </summary>
public sealed class PoolLayout(string directory)
{
    public const string ImageSuffix = ".img";

    public string Directory { get; } = Path.GetFullPath(directory);

    public string IncomingDirectory => Path.Combine(Directory, ".incoming");

    public string ImagePath(string backendName) => Path.Combine(Directory, CheckedName(backendName) + ImageSuffix);

    /// <summary>A fresh temporary path for an object being written; never a name a finished image can have.</summary>
    public string IncomingPath(string backendName) =>
        Path.Combine(IncomingDirectory, $"{CheckedName(backendName)}.{Guid.NewGuid():N}.tmp");

    /// <summary>The backend name a pool file stands for, or null when the file is not a finished image of ours.</summary>
    public static string? BackendNameOf(string fileName)
    {
        if (!fileName.EndsWith(ImageSuffix, StringComparison.Ordinal))
        {
            return null;
        }
        var name = fileName[..^ImageSuffix.Length];
        return IsBackendName(name) ? name : null;
    }

    /// <summary>True for the backend names of pool objects: volume and snapshot IDs of this driver.</summary>
    public static bool IsBackendName(string name) =>
        ObjectId.TryParse(name, ObjectKind.Volume, out _) || ObjectId.TryParse(name, ObjectKind.Snapshot, out _);

    private static string CheckedName(string backendName) =>
        IsBackendName(backendName)
            ? backendName
            : throw new ArgumentException($"'{backendName}' is not the backend name of a pool object", nameof(backendName));
}
