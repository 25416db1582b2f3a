using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Ids;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Client = Loopvol.Csi.V1.Controller.ControllerClient;

namespace Loopvol.Cluster.Services;

/// <summary>
/// The central controller's CSI Controller service (docs/cluster.md): each call goes, unchanged, to the node agent
/// that owns its object or, for a new volume, to the node its topology or source names. It keeps no state.
/// </summary>
public sealed partial class RoutingControllerService(Forwarder forward, RoutingOptions options) : Controller.ControllerBase
{
    public override Task<ControllerGetCapabilitiesResponse> ControllerGetCapabilities(ControllerGetCapabilitiesRequest request,
        ServerCallContext context) => Task.FromResult(ControllerService.CapabilitiesOf(options.EnableAttach));

    /// <summary>
    /// A name some node already holds goes to that node (a retry, or ALREADY_EXISTS there). Otherwise a clone or
    /// restore goes to its source's node; a new volume to the first node of the preferred topologies, else of the
    /// requisite ones, that has an agent (none: RESOURCE_EXHAUSTED); with no topology at all, to
    /// <see cref="RoutingOptions.DefaultNode"/>, or else to the node the name hashes to among the known agents.
    /// </summary>
    public override async Task<CreateVolumeResponse> CreateVolume(CreateVolumeRequest request, ServerCallContext context)
    {
        Task<CreateVolumeResponse> Call(GrpcChannel channel, CallOptions call) =>
            new Client(channel).CreateVolumeAsync(request, call).ResponseAsync;
        var token = context.CancellationToken;
        if (request.Name.Length == 0)
        {
            return await forward.ToAnyAsync(Call, token).ConfigureAwait(false);
        }
        if (await forward.Router.NameHolderAsync(request.Name, ObjectKind.Volume, token).ConfigureAwait(false) is { } holder)
        {
            return await forward.ToAsync(holder, Call, token).ConfigureAwait(false);
        }
        var source = request.VolumeContentSource;
        if (source?.Snapshot is { } snapshot)
        {
            return await forward.ToOwnerAsync(snapshot.SnapshotId, ObjectKind.Snapshot, Call, token).ConfigureAwait(false);
        }
        if (source?.Volume is { } volume)
        {
            return await forward.ToOwnerAsync(volume.VolumeId, ObjectKind.Volume, Call, token).ConfigureAwait(false);
        }
        var nodes = Candidates(request.AccessibilityRequirements);
        var agent = nodes.Count > 0 ? forward.Router.ForNew(nodes, "accessibility_requirements")
            : options.DefaultNode is { } node ? forward.Router.ForNew([node], "--default-node")
            : forward.Router.ForName(request.Name);
        return await forward.ToAsync(agent, Call, token).ConfigureAwait(false);
    }

    public override Task<DeleteVolumeResponse> DeleteVolume(DeleteVolumeRequest request, ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.DeleteVolumeAsync(request, call), context);

    public override Task<ControllerPublishVolumeResponse> ControllerPublishVolume(ControllerPublishVolumeRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ControllerPublishVolumeAsync(request, call), context);

    public override Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolume(ControllerUnpublishVolumeRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ControllerUnpublishVolumeAsync(request, call), context);

    public override Task<ValidateVolumeCapabilitiesResponse> ValidateVolumeCapabilities(ValidateVolumeCapabilitiesRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ValidateVolumeCapabilitiesAsync(request, call), context);

    public override Task<ControllerExpandVolumeResponse> ControllerExpandVolume(ControllerExpandVolumeRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ControllerExpandVolumeAsync(request, call), context);

    public override Task<ControllerGetVolumeResponse> ControllerGetVolume(ControllerGetVolumeRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ControllerGetVolumeAsync(request, call), context);

    public override Task<ControllerModifyVolumeResponse> ControllerModifyVolume(ControllerModifyVolumeRequest request,
        ServerCallContext context) =>
        ToOwnerAsync(request.VolumeId, ObjectKind.Volume, (client, call) => client.ControllerModifyVolumeAsync(request, call), context);

    /// <summary>A name some node already holds goes to that node; a new snapshot to its source volume's node.</summary>
    public override async Task<CreateSnapshotResponse> CreateSnapshot(CreateSnapshotRequest request, ServerCallContext context)
    {
        Task<CreateSnapshotResponse> Call(GrpcChannel channel, CallOptions call) =>
            new Client(channel).CreateSnapshotAsync(request, call).ResponseAsync;
        var token = context.CancellationToken;
        if (request.Name.Length > 0 &&
            await forward.Router.NameHolderAsync(request.Name, ObjectKind.Snapshot, token).ConfigureAwait(false) is { } holder)
        {
            return await forward.ToAsync(holder, Call, token).ConfigureAwait(false);
        }
        return await forward.ToOwnerAsync(request.SourceVolumeId, ObjectKind.Volume, Call, token).ConfigureAwait(false);
    }

    public override Task<DeleteSnapshotResponse> DeleteSnapshot(DeleteSnapshotRequest request, ServerCallContext context) =>
        ToOwnerAsync(request.SnapshotId, ObjectKind.Snapshot, (client, call) => client.DeleteSnapshotAsync(request, call), context);

    public override Task<GetSnapshotResponse> GetSnapshot(GetSnapshotRequest request, ServerCallContext context) =>
        ToOwnerAsync(request.SnapshotId, ObjectKind.Snapshot, (client, call) => client.GetSnapshotAsync(request, call), context);

    /// <summary>Forwards to the agent that owns <paramref name="id"/> (any agent, when none holds it).</summary>
    private Task<T> ToOwnerAsync<T>(string id, ObjectKind kind, Func<Client, CallOptions, AsyncUnaryCall<T>> call,
        ServerCallContext context) =>
        forward.ToOwnerAsync(id, kind, (channel, options) => call(new Client(channel), options).ResponseAsync,
            context.CancellationToken);

    /// <summary>The nodes a topology requirement names, preferred ones first, each once.</summary>
    internal static IReadOnlyList<string> Candidates(TopologyRequirement? requirement) => requirement is null
        ? []
        : requirement.Preferred.Concat(requirement.Requisite)
            .Select(t => t.Segments.TryGetValue(NodeTopology.NodeKey, out var node) ? node : null)
            .OfType<string>().Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>How the central controller routes.</summary>
public sealed record RoutingOptions(bool EnableAttach)
{
    /// <summary>
    /// The node of a new volume asked for with no topology (and no source); null: spread over the agents by name.
    /// Kubernetes always sends a topology; this is for other clients, e.g. a conformance run against one node.
    /// </summary>
    public string? DefaultNode { get; init; }
}
