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
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).DeleteVolumeAsync(request, call).ResponseAsync, context.CancellationToken);

    public override Task<ControllerPublishVolumeResponse> ControllerPublishVolume(ControllerPublishVolumeRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ControllerPublishVolumeAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolume(ControllerUnpublishVolumeRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ControllerUnpublishVolumeAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<ValidateVolumeCapabilitiesResponse> ValidateVolumeCapabilities(ValidateVolumeCapabilitiesRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ValidateVolumeCapabilitiesAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<ControllerExpandVolumeResponse> ControllerExpandVolume(ControllerExpandVolumeRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ControllerExpandVolumeAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<ControllerGetVolumeResponse> ControllerGetVolume(ControllerGetVolumeRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ControllerGetVolumeAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<ControllerModifyVolumeResponse> ControllerModifyVolume(ControllerModifyVolumeRequest request,
        ServerCallContext context) =>
        forward.ToOwnerAsync(request.VolumeId, ObjectKind.Volume,
            (channel, call) => new Client(channel).ControllerModifyVolumeAsync(request, call).ResponseAsync,
            context.CancellationToken);

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
        forward.ToOwnerAsync(request.SnapshotId, ObjectKind.Snapshot,
            (channel, call) => new Client(channel).DeleteSnapshotAsync(request, call).ResponseAsync,
            context.CancellationToken);

    public override Task<GetSnapshotResponse> GetSnapshot(GetSnapshotRequest request, ServerCallContext context) =>
        forward.ToOwnerAsync(request.SnapshotId, ObjectKind.Snapshot,
            (channel, call) => new Client(channel).GetSnapshotAsync(request, call).ResponseAsync,
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
