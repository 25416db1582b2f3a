using Google.Protobuf.WellKnownTypes;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool.Model;

namespace Loopvol.Csi.Mapping;

/// <summary>The one place where what the pool reports becomes CSI messages.</summary>
internal static class CsiMessages
{
    public const string FsTypeKey = "fsType";

    public static V1.Volume Volume(VolumeInfo v, string nodeId)
    {
        var volume = new V1.Volume
        {
            VolumeId = v.Id.ToString(),
            CapacityBytes = v.CapacityBytes,
            AccessibleTopology = { NodeTopology.Of(nodeId) },
        };
        if (v.Source is { } source)
        {
            volume.ContentSource = source.Id.Kind == ObjectKind.Snapshot
                ? new VolumeContentSource { Snapshot = new() { SnapshotId = source.Id.ToString() } }
                : new VolumeContentSource { Volume = new() { VolumeId = source.Id.ToString() } };
        }
        if (v.Parameters.TryGetValue(FsTypeKey, out var fs))
        {
            volume.VolumeContext.Add(FsTypeKey, fs);
        }
        return volume;
    }

    /// <summary>A snapshot; every snapshot the pool reports is cut, so it is always ready to use.</summary>
    public static Snapshot Snapshot(SnapshotInfo s) => new()
    {
        SnapshotId = s.Id.ToString(),
        SourceVolumeId = s.SourceVolume.ToString(),
        SizeBytes = s.SizeBytes,
        CreationTime = Timestamp.FromDateTimeOffset(s.CreatedAt),
        ReadyToUse = true,
        GroupSnapshotId = s.Group?.ToString() ?? "",
    };

    public static VolumeGroupSnapshot GroupSnapshot(GroupSnapshotInfo group) => new()
    {
        GroupSnapshotId = group.Id.ToString(),
        CreationTime = Timestamp.FromDateTimeOffset(group.CreatedAt),
        ReadyToUse = true,
        Snapshots = { group.Members.Select(s => Snapshot(s with { Group = group.Id })) },
    };

    public static VolumeCondition Condition(Condition c) => new() { Abnormal = c.Abnormal, Message = c.Message };
}
