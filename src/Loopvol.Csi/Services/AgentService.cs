using Grpc.Core;
using Loopvol.Agent.V1;
using Loopvol.Core.Ids;
using Loopvol.Csi.Validation;
using Loopvol.Pool;

namespace Loopvol.Csi.Services;

/// <summary>
/// The node agent's own service (protos/loopvol/agent/v1/agent.proto, docs/cluster.md): who this node is, and which
/// IDs its pool holds. It reads the journal only.
/// </summary>
public sealed class AgentService(StoragePool pool, DriverIdentity identity, string nodeId) : Agent.V1.Agent.AgentBase
{
    /// <summary>The most IDs one Locate may carry, so that one call stays one short read per ID.</summary>
    public const int MaxLocate = 1000;

    public override Task<DescribeResponse> Describe(DescribeRequest request, ServerCallContext context) =>
        Task.FromResult(new DescribeResponse
        {
            NodeId = nodeId,
            DriverName = identity.Name,
            Version = identity.VendorVersion,
            AccessibleTopology = { NodeTopology.Of(nodeId).Segments },
        });

    public override Task<LocateResponse> Locate(LocateRequest request, ServerCallContext context)
    {
        var count = request.VolumeIds.Count + request.SnapshotIds.Count + request.GroupSnapshotIds.Count +
                    request.VolumeNames.Count + request.SnapshotNames.Count + request.GroupSnapshotNames.Count;
        if (count > MaxLocate)
        {
            throw Require.Invalid($"volume_ids, snapshot_ids, group_snapshot_ids, volume_names, snapshot_names and group_snapshot_names hold {count} entries in all; at most {MaxLocate}");
        }
        return Task.FromResult(new LocateResponse
        {
            VolumeIds = { Here(request.VolumeIds, ObjectKind.Volume) },
            SnapshotIds = { Here(request.SnapshotIds, ObjectKind.Snapshot) },
            GroupSnapshotIds = { Here(request.GroupSnapshotIds, ObjectKind.Group) },
            VolumeNames = { Named(request.VolumeNames, ObjectKind.Volume) },
            SnapshotNames = { Named(request.SnapshotNames, ObjectKind.Snapshot) },
            GroupSnapshotNames = { Named(request.GroupSnapshotNames, ObjectKind.Group) },
        });
    }

    private IEnumerable<string> Named(IEnumerable<string> names, ObjectKind kind) =>
        names.Where(name => name.Length > 0 && pool.HoldsName(kind, name)).ToList();

    private IEnumerable<string> Here(IEnumerable<string> ids, ObjectKind kind) =>
        ids.Where(text => Require.Lookup(text, kind, nodeId) is { } id && pool.Holds(id)).ToList();
}
