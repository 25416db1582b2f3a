using Google.Protobuf.WellKnownTypes;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool.Extents;
using Loopvol.Pool.Model;

namespace Loopvol.Csi.Mapping;

/// <summary>
/// The one place where what the pool reports becomes CSI messages, and where its IDs are written: as they are, or
/// tagged with this node (<see cref="RoutedId"/>) when the pool serves a central controller (docs/cluster.md).
/// </summary>
internal sealed class CsiMessages(string nodeId, bool tagIds)
{
    public const string FsTypeKey = "fsType";

    /// <summary>An ID as this node hands it out.</summary>
    public string Id(ObjectId id) => tagIds ? RoutedId.On(id, nodeId).ToString() : id.ToString();

    public V1.Volume Volume(VolumeInfo v)
    {
        var volume = new V1.Volume
        {
            VolumeId = Id(v.Id),
            CapacityBytes = v.CapacityBytes,
            AccessibleTopology = { NodeTopology.Of(nodeId) },
        };
        if (v.Source is { } source)
        {
            volume.ContentSource = source.Id.Kind == ObjectKind.Snapshot
                ? new VolumeContentSource { Snapshot = new() { SnapshotId = Id(source.Id) } }
                : new VolumeContentSource { Volume = new() { VolumeId = Id(source.Id) } };
        }
        if (v.Parameters.TryGetValue(FsTypeKey, out var fs))
        {
            volume.VolumeContext.Add(FsTypeKey, fs);
        }
        return volume;
    }

    /// <summary>A snapshot; every snapshot the pool reports is cut, so it is always ready to use.</summary>
    public Snapshot Snapshot(SnapshotInfo s) => new()
    {
        SnapshotId = Id(s.Id),
        SourceVolumeId = Id(s.SourceVolume),
        SizeBytes = s.SizeBytes,
        CreationTime = Timestamp.FromDateTimeOffset(s.CreatedAt),
        ReadyToUse = true,
        GroupSnapshotId = s.Group is { } g ? (s.GroupNode is { } first ? RoutedId.On(g, first).ToString() : Id(g)) : "",
    };

    public VolumeGroupSnapshot GroupSnapshot(GroupSnapshotInfo group) => new()
    {
        GroupSnapshotId = Id(group.Id),
        CreationTime = Timestamp.FromDateTimeOffset(group.CreatedAt),
        ReadyToUse = true,
        Snapshots = { group.Members.Select(s => Snapshot(s with { Group = group.Id })) },
    };

    public static VolumeCondition Condition(Condition c) => new() { Abnormal = c.Abnormal, Message = c.Message };

    public static IEnumerable<BlockMetadata> Blocks(IEnumerable<BlockRange> ranges) =>
        ranges.Select(r => new BlockMetadata { ByteOffset = r.Offset, SizeBytes = r.Length });
}
