using Loopvol.Core.Ids;

namespace Loopvol.Pool.Model;

/// <summary>A volume group snapshot and its member snapshots.</summary>
public sealed record GroupSnapshotInfo(ObjectId Id, IReadOnlyList<SnapshotInfo> Members, DateTimeOffset CreatedAt);
