using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool;
using Cap = Loopvol.Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Csi.Services;

/// <summary>The CSI GroupController service: crash-consistent volume group snapshots.</summary>
public sealed class GroupControllerService(StoragePool pool, IVolumeQuiescer quiescer, string nodeId)
    : GroupController.GroupControllerBase
{
    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(GroupControllerGetCapabilitiesRequest request,
        ServerCallContext context) =>
        Task.FromResult(new GroupControllerGetCapabilitiesResponse
        {
            Capabilities = { new GroupControllerServiceCapability { Rpc = new() { Type = Cap.CreateDeleteGetVolumeGroupSnapshot } } },
        });

    public override async Task<CreateVolumeGroupSnapshotResponse> CreateVolumeGroupSnapshot(CreateVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        if (request.SourceVolumeIds.Count == 0)
        {
            throw Require.Invalid("source_volume_ids is required");
        }
        var (_, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.GroupSnapshot, [], "CreateVolumeGroupSnapshot");
        var volumes = request.SourceVolumeIds.Select(text =>
            Require.Lookup(Require.NotEmpty(text, "source_volume_ids[]"), ObjectKind.Volume, nodeId)
            ?? throw new NotFoundException($"source_volume_ids: volume {text} does not exist")).ToList();
        var group = await pool.CreateGroupSnapshotAsync(name, volumes, quiescer, context.CancellationToken);
        await pool.RecordKubernetesNamesAsync(group.Id, names);
        return new CreateVolumeGroupSnapshotResponse { GroupSnapshot = CsiMessages.GroupSnapshot(group) };
    }

    public override async Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        if (Require.Lookup(text, ObjectKind.Group, nodeId) is { } id)
        {
            await pool.DeleteGroupSnapshotAsync(id, [.. request.SnapshotIds], context.CancellationToken);
        }
        return new DeleteVolumeGroupSnapshotResponse();
    }

    public override Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        var group = (Require.Lookup(text, ObjectKind.Group, nodeId) is { } id ? pool.GetGroupSnapshot(id) : null)
                    ?? throw new NotFoundException($"group_snapshot_id {text} does not exist");
        return Task.FromResult(new GetVolumeGroupSnapshotResponse { GroupSnapshot = CsiMessages.GroupSnapshot(group) });
    }
}
