using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Loopvol.Agent.V1;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.Validation;
using Loopvol.Pool;
using Loopvol.Pool.Model;

namespace Loopvol.Csi.Services;

/// <summary>
/// The node agent's own service (protos/loopvol/agent/v1/agent.proto, docs/cluster.md): who this node is, which IDs
/// its pool holds, and this node's parts of group snapshots across nodes.
/// </summary>
public sealed class AgentService(StoragePool pool, IVolumeQuiescer quiescer, DriverIdentity identity, string nodeId)
    : Agent.V1.Agent.AgentBase
{
    /// <summary>The most IDs one Locate may carry, so that one call stays one short read per ID.</summary>
    public const int MaxLocate = 1000;

    private readonly CsiMessages _messages = new(nodeId, tagIds: true);

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

    public override async Task<GroupPart> PrepareGroupPart(PrepareGroupPartRequest request, ServerCallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        var id = GroupId(request.GroupUuid);
        if (request.SourceVolumeIds.Count == 0 || request.MemberVolumeIds.Count == 0)
        {
            throw Require.Invalid("source_volume_ids and member_volume_ids are required");
        }
        var sources = request.SourceVolumeIds.Select(text => RoutedId.TryParse(text, ObjectKind.Volume, out var routed)
            ? routed.Value.Id
            : throw new NotFoundException($"source_volume_ids: volume {text} does not exist")).ToList();
        var members = request.MemberVolumeIds.Select(text => Require.Lookup(text, ObjectKind.Volume, nodeId)
            ?? throw new NotFoundException($"member_volume_ids: volume {text} is not on node {nodeId}")).ToList();
        if (!request.Nodes.Contains(nodeId) || request.Nodes.Any(n => !NodeIds.IsValid(n)))
        {
            throw Require.Invalid($"nodes must be node IDs and name this node, {nodeId}");
        }
        if (request.LeaseMs == 0)
        {
            throw Require.Invalid("lease_ms is required");
        }
        var (_, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.GroupSnapshot, [], "CreateVolumeGroupSnapshot");
        return Message(await pool.PrepareGroupPartAsync(new GroupPartRequest(name, id, sources, [.. request.Nodes], members,
            TimeSpan.FromMilliseconds(request.LeaseMs), names), quiescer, context.CancellationToken));
    }

    public override async Task<GroupPart> CommitGroupPart(GroupPartRef request, ServerCallContext context) =>
        Message(await pool.CommitGroupPartAsync(GroupId(request.GroupUuid), context.CancellationToken));

    public override async Task<AbortGroupPartResponse> AbortGroupPart(GroupPartRef request, ServerCallContext context)
    {
        await pool.AbortGroupPartAsync(Ref(request), request.Name);
        return new AbortGroupPartResponse();
    }

    public override Task<GroupPart> GetGroupPart(GroupPartRef request, ServerCallContext context) =>
        Task.FromResult(pool.GetGroupPart(Ref(request), request.Name) is { } part
            ? Message(part)
            : new GroupPart { State = GroupPart.Types.State.Absent, Name = request.Name, GroupUuid = request.GroupUuid });

    public override Task<ListGroupPartsResponse> ListGroupParts(ListGroupPartsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListGroupPartsResponse
        {
            Parts = { pool.GroupParts().Select(p => Message(p with { Group = null })) },
        });

    /// <summary>The part as the controller reads it: members tagged with this node, their group named by its first node.</summary>
    private GroupPart Message(GroupPartInfo part)
    {
        return new GroupPart
        {
            State = part.State == GroupPartState.Committed ? GroupPart.Types.State.Committed : GroupPart.Types.State.Prepared,
            Name = part.Name,
            GroupUuid = part.Id.Uuid.ToString("D"),
            Nodes = { part.Nodes },
            SourceVolumeIds = { part.Sources.Select(s => s.ToString()) },
            Snapshots = { (part.Group?.Members ?? []).Select(_messages.Snapshot) },
            CreationTime = Timestamp.FromDateTimeOffset(part.CreatedAt),
        };
    }

    private static ObjectId? Ref(GroupPartRef request) =>
        request.GroupUuid.Length > 0 ? GroupId(request.GroupUuid) : request.Name.Length > 0 ? null
            : throw Require.Invalid("name or group_uuid is required");

    private static ObjectId GroupId(string uuid) =>
        Guid.TryParseExact(uuid, "D", out var parsed) && parsed.ToString("D") == uuid
            ? new ObjectId(ObjectKind.Group, parsed)
            : throw Require.Invalid($"group_uuid '{uuid}' is not a lowercase UUID");
}
