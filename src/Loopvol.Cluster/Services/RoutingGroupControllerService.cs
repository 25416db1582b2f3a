using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Client = Loopvol.Csi.V1.GroupController.GroupControllerClient;

namespace Loopvol.Cluster.Services;

/// <summary>
/// The central controller's CSI GroupController service: a group snapshot goes to the node that holds its members;
/// a group's later calls to the node its ID names.
/// </summary>
public sealed class RoutingGroupControllerService(Forwarder forward) : GroupController.GroupControllerBase
{
    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(
        GroupControllerGetCapabilitiesRequest request, ServerCallContext context) =>
        Task.FromResult(GroupControllerService.Capabilities());

    /// <summary>
    /// A name some node already holds goes to that node. Members all on one node: that node's agent makes the group. A member no agent holds: any agent answers
    /// (NOT_FOUND). Members on several nodes are INVALID_ARGUMENT for now: a crash-consistent group across nodes needs
    /// the two-phase protocol of docs/cluster.md, not yet built.
    /// </summary>
    public override async Task<CreateVolumeGroupSnapshotResponse> CreateVolumeGroupSnapshot(
        CreateVolumeGroupSnapshotRequest request, ServerCallContext context)
    {
        Task<CreateVolumeGroupSnapshotResponse> Call(GrpcChannel channel, CallOptions options) =>
            new Client(channel).CreateVolumeGroupSnapshotAsync(request, options).ResponseAsync;
        var token = context.CancellationToken;
        var owners = await Task.WhenAll(request.SourceVolumeIds.Select(id => forward.Router.OwnerAsync(id, ObjectKind.Volume, token)))
            .ConfigureAwait(false);
        if (owners.Length == 0 || owners.Any(o => o is null) || request.Name.Length == 0)
        {
            return await forward.ToAnyAsync(Call, token).ConfigureAwait(false);
        }
        if (await forward.Router.NameHolderAsync(request.Name, ObjectKind.Group, token).ConfigureAwait(false) is { } holder)
        {
            return await forward.ToAsync(holder, Call, token).ConfigureAwait(false);
        }
        var nodes = owners.Select(o => o!.NodeId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (nodes.Count > 1)
        {
            throw new InvalidArgumentException(
                $"source_volume_ids are on {nodes.Count} nodes ({string.Join(", ", nodes)}); a group snapshot across " +
                "nodes is not supported yet: its members must be on one node");
        }
        return await forward.ToAsync(owners[0]!, Call, token).ConfigureAwait(false);
    }

    public override Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.GroupSnapshotId, ObjectKind.Group,
            (channel, options) => new Client(channel).DeleteVolumeGroupSnapshotAsync(request, options).ResponseAsync,
            context.CancellationToken);

    public override Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.GroupSnapshotId, ObjectKind.Group,
            (channel, options) => new Client(channel).GetVolumeGroupSnapshotAsync(request, options).ResponseAsync,
            context.CancellationToken);
}
