using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool;
using Cap = Loopvol.Csi.V1.GroupControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Csi.Services;

/// <summary>
/// The CSI GroupController service: crash-consistent volume group snapshots. With <paramref name="tagIds"/> it hands
/// out IDs tagged with <paramref name="nodeId"/> (<see cref="ControllerOptions.TagIds"/>).
/// </summary>
public sealed class GroupControllerService(StoragePool pool, IVolumeQuiescer quiescer, string nodeId, bool tagIds = false)
    : GroupController.GroupControllerBase
{
    private readonly CsiMessages _messages = new(nodeId, tagIds);

    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(GroupControllerGetCapabilitiesRequest request,
        ServerCallContext context) => Task.FromResult(Capabilities());

    /// <summary>What the group controller offers.</summary>
    public static GroupControllerGetCapabilitiesResponse Capabilities() => new()
    {
        Capabilities = { new GroupControllerServiceCapability { Rpc = new() { Type = Cap.CreateDeleteGetVolumeGroupSnapshot } } },
    };

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
        return new CreateVolumeGroupSnapshotResponse { GroupSnapshot = _messages.GroupSnapshot(group) };
    }

    public override async Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        if (Require.Lookup(text, ObjectKind.Group, nodeId) is { } id)
        {
            // Members as this pool names them: a tag of this node dropped, anything else left to be refused as it is.
            var members = request.SnapshotIds.Select(m => Require.Lookup(m, ObjectKind.Snapshot, nodeId)?.ToString() ?? m).ToList();
            await pool.DeleteGroupSnapshotAsync(id, members, context.CancellationToken);
        }
        return new DeleteVolumeGroupSnapshotResponse();
    }

    public override Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.GroupSnapshotId, "group_snapshot_id");
        var group = (Require.Lookup(text, ObjectKind.Group, nodeId) is { } id ? pool.GetGroupSnapshot(id) : null)
                    ?? throw new NotFoundException($"group_snapshot_id {text} does not exist");
        return Task.FromResult(new GetVolumeGroupSnapshotResponse { GroupSnapshot = _messages.GroupSnapshot(group) });
    }
}
