namespace Loopvol.Journal.Model;

/// <summary>Where a volume stands on this node (IDEAS.md section 3).</summary>
public enum NodeState
{
    /// <summary>Exists, not attached.</summary>
    Init,

    /// <summary>A loop device holds the image; no file system mounted.</summary>
    Attached,

    /// <summary>Staged: the file system is mounted (or the block device exposed) at the staging path.</summary>
    Mounted,

    /// <summary>Staged and published to one or more target paths. Never stored: derived from the publications.</summary>
    InUse,
}

/// <summary>One published target path of a volume.</summary>
public sealed record Publication(string TargetPath, bool ReadOnly, string AccessType);

/// <summary>
/// A volume's node-side record. The reference count is the number of publications, so it cannot drift from them.
/// </summary>
public sealed record NodeVolume(
    string VolumeId,
    string? StagingPath,
    NodeState StageState,
    string? LoopDevice,
    StageArguments? StageArguments,
    IReadOnlyList<Publication> Publications)
{
    public int ReferenceCount => Publications.Count;

    /// <summary>The state with InUse derived from the publications.</summary>
    public NodeState State => StageState == NodeState.Mounted && Publications.Count > 0 ? NodeState.InUse : StageState;
}
