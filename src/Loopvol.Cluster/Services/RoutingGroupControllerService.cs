using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Agent.V1;
using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Client = Loopvol.Csi.V1.GroupController.GroupControllerClient;

namespace Loopvol.Cluster.Services;

/// <summary>
/// The central controller's CSI GroupController service: a group snapshot whose members are all on one node goes to
/// that node; one across nodes is made by <see cref="GroupsAcrossNodes"/> in two phases. A group's later calls go to
/// the node its ID names, whose part lists the others.
/// </summary>
public sealed class RoutingGroupControllerService(Forwarder forward, GroupsAcrossNodes across) : GroupController.GroupControllerBase
{
    private readonly GroupsAcrossNodes _across = across;

    public override Task<GroupControllerGetCapabilitiesResponse> GroupControllerGetCapabilities(
        GroupControllerGetCapabilitiesRequest request, ServerCallContext context) =>
        Task.FromResult(GroupControllerService.Capabilities());

    /// <summary>
    /// A member no agent holds, or a request with no name or members: any agent answers (NOT_FOUND,
    /// INVALID_ARGUMENT). Members all on one node: that node makes the group, unless another node holds the name (it
    /// answers: the same group, or ALREADY_EXISTS). Members on several nodes: the two-phase protocol.
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
        var holder = await forward.Router.NameHolderAsync(request.Name, ObjectKind.Group, token).ConfigureAwait(false);
        if (owners.Select(o => o!.NodeId).Distinct(StringComparer.Ordinal).Count() == 1)
        {
            return await forward.ToAsync(holder ?? owners[0]!, Call, token).ConfigureAwait(false);
        }
        return new CreateVolumeGroupSnapshotResponse
        {
            GroupSnapshot = await _across.CreateAsync(request, owners!, holder, token).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// A group across nodes: every node's part discarded, the first node's last. A node of it out of reach:
    /// UNAVAILABLE, and the first node's part is kept, so the delete is repeated once that node is back. Any other
    /// group (or an ID no agent holds): its node answers.
    /// </summary>
    public override async Task<DeleteVolumeGroupSnapshotResponse> DeleteVolumeGroupSnapshot(DeleteVolumeGroupSnapshotRequest request,
        ServerCallContext context)
    {
        var token = context.CancellationToken;
        if (await PartsAsync(request.GroupSnapshotId, token).ConfigureAwait(false) is { } across)
        {
            var members = across.Parts.SelectMany(p => p.Part.Snapshots.Select(s => s.SnapshotId)).ToHashSet(StringComparer.Ordinal);
            if (across.Group is not null && !members.SetEquals(request.SnapshotIds))
            {
                throw new InvalidArgumentException($"snapshot_ids must be exactly the members of {request.GroupSnapshotId}: " +
                                                   string.Join(", ", members.Order(StringComparer.Ordinal)));
            }
            await _across.DeleteAsync(across.Parts, token).ConfigureAwait(false);
            return new DeleteVolumeGroupSnapshotResponse();
        }
        return await forward.ToOwnerAsync(request.GroupSnapshotId, ObjectKind.Group,
            (channel, options) => new Client(channel).DeleteVolumeGroupSnapshotAsync(request, options).ResponseAsync, token).ConfigureAwait(false);
    }

    /// <summary>A group across nodes: its members from every node; NOT_FOUND unless every node holds its part, committed.</summary>
    public override async Task<GetVolumeGroupSnapshotResponse> GetVolumeGroupSnapshot(GetVolumeGroupSnapshotRequest request,
        ServerCallContext context)
    {
        var token = context.CancellationToken;
        if (await PartsAsync(request.GroupSnapshotId, token).ConfigureAwait(false) is { } across)
        {
            return new GetVolumeGroupSnapshotResponse
            {
                GroupSnapshot = across.Group ?? throw new NotFoundException(
                    $"group_snapshot_id {request.GroupSnapshotId} does not exist: not every node of it holds its part"),
            };
        }
        return await forward.ToOwnerAsync(request.GroupSnapshotId, ObjectKind.Group,
            (channel, options) => new Client(channel).GetVolumeGroupSnapshotAsync(request, options).ResponseAsync, token).ConfigureAwait(false);
    }

    /// <summary>The parts of a group across nodes named by <paramref name="text"/>; null for any other group or text.</summary>
    private async Task<(VolumeGroupSnapshot? Group, IReadOnlyList<(AgentAddress Agent, GroupPart Part)> Parts)?> PartsAsync(
        string text, CancellationToken cancellationToken)
    {
        if (!RoutedId.TryParse(text, ObjectKind.Group, out var routed) || routed.Value.Tag is null ||
            await forward.Router.OwnerAsync(text, ObjectKind.Group, cancellationToken).ConfigureAwait(false) is not { } home)
        {
            return null;
        }
        var (part, group, parts) = await _across.ReadAsync(home, routed.Value.Id, cancellationToken).ConfigureAwait(false);
        return part ? (group, parts) : null;
    }
}
