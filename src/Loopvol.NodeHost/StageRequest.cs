using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.NodeHost;

/// <summary>A NodeStageVolume as the node sees it.</summary>
public sealed record StageRequest(ObjectId Volume, string StagingPath, StageArguments Arguments)
{
    public bool Block => Arguments.Block;

    public string FsType => Arguments.FsType;

    public IReadOnlyList<string> MountFlags => Arguments.MountFlags;

    public string? MountGroup => Arguments.MountGroup;
}

/// <summary>A NodePublishVolume as the node sees it.</summary>
public sealed record PublishRequest(ObjectId Volume, string StagingPath, string TargetPath, bool ReadOnly, bool Block);

/// <summary>What NodeGetVolumeStats reports.</summary>
public sealed record VolumeStats(long? TotalBytes, long? AvailableBytes, long? UsedBytes, long? TotalInodes,
    long? FreeInodes, bool Abnormal, string Message);
