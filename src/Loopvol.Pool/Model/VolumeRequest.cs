using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Pool.Model;

/// <summary>Where a new volume's data comes from.</summary>
public sealed record ContentSource(ObjectId Id);

/// <summary>
/// A CreateVolume as the pool sees it: sizes in bytes (0 = not given), and the typed, canonical forms of what else
/// defines the request, compared on a retry.
/// </summary>
public sealed record VolumeRequest
{
    public required string Name { get; init; }

    public long RequiredBytes { get; init; }

    public long LimitBytes { get; init; }

    /// <summary>The least size the volume's file system can be made on; a smaller request is rounded up to it.</summary>
    public long MinimumBytes { get; init; }

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    public ContentSource? Source { get; init; }

    public Accessibility? Accessibility { get; init; }

    public CapabilitySet? Capabilities { get; init; }
}

/// <summary>A volume as the pool reports it.</summary>
public sealed record VolumeInfo(ObjectId Id, long CapacityBytes, ContentSource? Source,
    IReadOnlyDictionary<string, string> Parameters, CapabilitySet? Capabilities, DateTimeOffset CreatedAt);

/// <summary>A volume with its condition and the nodes it is published to (when asked for; empty otherwise).</summary>
public sealed record VolumeStatus(VolumeInfo Volume, Condition Condition, IReadOnlyList<string> PublishedNodes);

/// <summary>
/// A snapshot as the pool reports it. <see cref="GroupNode"/>: for a member of a group across nodes, the node whose
/// tag the group's ID carries (its first node); null otherwise.
/// </summary>
public sealed record SnapshotInfo(ObjectId Id, ObjectId SourceVolume, long SizeBytes, DateTimeOffset CreatedAt,
    ObjectId? Group)
{
    public string? GroupNode { get; init; }
}

/// <summary>Whether an object's image is as the journal says: present, and of the recorded size.</summary>
public sealed record Condition(bool Abnormal, string Message)
{
    public static readonly Condition Healthy = new(false, "the image is present and of the recorded size");
}
