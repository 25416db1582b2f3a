using Google.Protobuf.WellKnownTypes;
using Loopvol.Core.Ids;
using Loopvol.Csi.Validation;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Cap = Loopvol.Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Csi.Services;

/// <summary>The CSI GroupController service: crash-consistent volume group snapshots.</summary>
public sealed class GroupControllerService(StoragePool pool, IVolumeQuiescer quiescer)
{
    public Task<GroupControllerGetCapabilitiesResponse> GetCapabilitiesAsync(GroupControllerGetCapabilitiesRequest request,
        CallContext context) =>
        Task.FromResult(new GroupControllerGetCapabilitiesResponse
        {
            Capabilities = { new GroupControllerServiceCapability { Rpc = new() { Type = Cap.CreateDeleteGetVolumeGroupSnapshot } } },
        });

    public Task<CreateVolumeGroupSnapshotResponse> CreateAsync(CreateVolumeGroupSnapshotRequest request, CallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        if (request.SourceVolumeIds.Count == 0)
        {
            throw Require.Invalid("source_volume_ids is required");
        }
        var (_, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.GroupSnapshot, [], "CreateVolumeGroupSnapshot");
        var volumes = request.SourceVolumeIds.Select(text =>
            Require.Lookup(Require.NotEmpty(text, "source_volume_ids[]"), ObjectKind.Volume)
            ?? throw new RpcException(StatusCode.NotFound, $"source volume {text} does not exist")).ToList();
        var group = pool.CreateGroupSnapshot(name, volumes, quiescer, context.CancellationToken);
        pool.RecordKubernetesNames(group.Id, names);
        return Task.FromResult(new CreateVolumeGroupSnapshotResponse { GroupSnapshot = ToCsi(group) });
    }

    public Task<DeleteVolumeGroupSnapshotResponse> DeleteAsync(DeleteVolumeGroupSnapshotRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        if (Require.Lookup(text, ObjectKind.Group) is { } id)
        {
            pool.DeleteGroupSnapshot(id, [.. request.SnapshotIds], context.CancellationToken);
        }
        return Task.FromResult(new DeleteVolumeGroupSnapshotResponse());
    }

    public Task<GetVolumeGroupSnapshotResponse> GetAsync(GetVolumeGroupSnapshotRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        var group = (Require.Lookup(text, ObjectKind.Group) is { } id ? pool.GetGroupSnapshot(id) : null)
                    ?? throw new RpcException(StatusCode.NotFound, $"group_snapshot_id {text} does not exist");
        return Task.FromResult(new GetVolumeGroupSnapshotResponse { GroupSnapshot = ToCsi(group) });
    }

    private static VolumeGroupSnapshot ToCsi(GroupSnapshotInfo group) => new()
    {
        GroupSnapshotId = group.Id.ToString(),
        CreationTime = Timestamp.FromDateTimeOffset(group.CreatedAt),
        ReadyToUse = true,
        Snapshots =
        {
            group.Members.Select(s => new Snapshot
            {
                SnapshotId = s.Id.ToString(),
                SourceVolumeId = s.SourceVolume.ToString(),
                SizeBytes = s.SizeBytes,
                CreationTime = Timestamp.FromDateTimeOffset(s.CreatedAt),
                ReadyToUse = true,
                GroupSnapshotId = group.Id.ToString(),
            }),
        },
    };
}
