using Loopvol.Core.Ids;

namespace Loopvol.NodeHost;

/// <summary>A NodeStageVolume as the node sees it.</summary>
public sealed record StageRequest(ObjectId Volume, string StagingPath, bool Block, string FsType,
    IReadOnlyList<string> MountFlags, string? MountGroup)
{
    /// <summary>What a repeat must match exactly.</summary>
    public string Canonical => Block
        ? "block"
        : $"mount;{FsType};{string.Join(',', MountFlags.Order(StringComparer.Ordinal))};{MountGroup}";
}

/// <summary>A NodePublishVolume as the node sees it.</summary>
public sealed record PublishRequest(ObjectId Volume, string StagingPath, string TargetPath, bool ReadOnly, bool Block);

/// <summary>What NodeGetVolumeStats reports.</summary>
public sealed record VolumeStats(long? TotalBytes, long? AvailableBytes, long? UsedBytes, long? TotalInodes,
    long? FreeInodes, bool Abnormal, string Message);
