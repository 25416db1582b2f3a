using Loopvol.Core.Concurrency;
using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Grpc;

namespace Loopvol.Csi;

/// <summary>
/// Builds the routing table of every CSI service and binds the implemented methods; the rest answer UNIMPLEMENTED.
/// </summary>
public static class CsiRegistry
{
    public static GrpcServiceRegistry Create(IdentityService identity, ControllerService controller, NodeService node,
        GroupControllerService groups, bool enableAttach, CallTracker tracker)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(tracker);
        var registry = new GrpcServiceRegistry(CsiServices.All);
        registry
            .MapUnary<GetPluginInfoRequest, GetPluginInfoResponse>(
                CsiServices.Method("Identity", "GetPluginInfo"), tracker.Track<GetPluginInfoRequest, GetPluginInfoResponse>(identity.GetPluginInfoAsync))
            .MapUnary<GetPluginCapabilitiesRequest, GetPluginCapabilitiesResponse>(
                CsiServices.Method("Identity", "GetPluginCapabilities"), tracker.Track<GetPluginCapabilitiesRequest, GetPluginCapabilitiesResponse>(identity.GetPluginCapabilitiesAsync))
            .MapUnary<ProbeRequest, ProbeResponse>(
                CsiServices.Method("Identity", "Probe"), tracker.Track<ProbeRequest, ProbeResponse>(identity.ProbeAsync));
        MapController(registry, controller, tracker);
        MapNode(registry, node, tracker);
        registry
            .MapUnary<GroupControllerGetCapabilitiesRequest, GroupControllerGetCapabilitiesResponse>(
                CsiServices.Method("GroupController", "GroupControllerGetCapabilities"), tracker.Track<GroupControllerGetCapabilitiesRequest, GroupControllerGetCapabilitiesResponse>(groups.GetCapabilitiesAsync))
            .MapUnary<CreateVolumeGroupSnapshotRequest, CreateVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "CreateVolumeGroupSnapshot"), tracker.Track<CreateVolumeGroupSnapshotRequest, CreateVolumeGroupSnapshotResponse>(groups.CreateAsync))
            .MapUnary<DeleteVolumeGroupSnapshotRequest, DeleteVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "DeleteVolumeGroupSnapshot"), tracker.Track<DeleteVolumeGroupSnapshotRequest, DeleteVolumeGroupSnapshotResponse>(groups.DeleteAsync))
            .MapUnary<GetVolumeGroupSnapshotRequest, GetVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "GetVolumeGroupSnapshot"), tracker.Track<GetVolumeGroupSnapshotRequest, GetVolumeGroupSnapshotResponse>(groups.GetAsync));
        if (enableAttach)
        {
            registry
                .MapUnary<ControllerPublishVolumeRequest, ControllerPublishVolumeResponse>(
                    CsiServices.Method("Controller", "ControllerPublishVolume"), tracker.Track<ControllerPublishVolumeRequest, ControllerPublishVolumeResponse>(controller.PublishVolumeAsync))
                .MapUnary<ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse>(
                    CsiServices.Method("Controller", "ControllerUnpublishVolume"), tracker.Track<ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse>(controller.UnpublishVolumeAsync));
        }
        return registry;
    }

    private static void MapController(GrpcServiceRegistry registry, ControllerService c, CallTracker tracker)
    {
        static Google.Protobuf.Reflection.MethodDescriptor M(string name) => CsiServices.Method("Controller", name);
        registry
            .MapUnary<ControllerGetCapabilitiesRequest, ControllerGetCapabilitiesResponse>(
                M("ControllerGetCapabilities"), tracker.Track<ControllerGetCapabilitiesRequest, ControllerGetCapabilitiesResponse>(c.GetCapabilitiesAsync))
            .MapUnary<CreateVolumeRequest, CreateVolumeResponse>(M("CreateVolume"), tracker.Track<CreateVolumeRequest, CreateVolumeResponse>(c.CreateVolumeAsync))
            .MapUnary<DeleteVolumeRequest, DeleteVolumeResponse>(M("DeleteVolume"), tracker.Track<DeleteVolumeRequest, DeleteVolumeResponse>(c.DeleteVolumeAsync))
            .MapUnary<ValidateVolumeCapabilitiesRequest, ValidateVolumeCapabilitiesResponse>(
                M("ValidateVolumeCapabilities"), tracker.Track<ValidateVolumeCapabilitiesRequest, ValidateVolumeCapabilitiesResponse>(c.ValidateVolumeCapabilitiesAsync))
            .MapUnary<ListVolumesRequest, ListVolumesResponse>(M("ListVolumes"), tracker.Track<ListVolumesRequest, ListVolumesResponse>(c.ListVolumesAsync))
            .MapUnary<GetCapacityRequest, GetCapacityResponse>(M("GetCapacity"), tracker.Track<GetCapacityRequest, GetCapacityResponse>(c.GetCapacityAsync))
            .MapUnary<CreateSnapshotRequest, CreateSnapshotResponse>(M("CreateSnapshot"), tracker.Track<CreateSnapshotRequest, CreateSnapshotResponse>(c.CreateSnapshotAsync))
            .MapUnary<DeleteSnapshotRequest, DeleteSnapshotResponse>(M("DeleteSnapshot"), tracker.Track<DeleteSnapshotRequest, DeleteSnapshotResponse>(c.DeleteSnapshotAsync))
            .MapUnary<ListSnapshotsRequest, ListSnapshotsResponse>(M("ListSnapshots"), tracker.Track<ListSnapshotsRequest, ListSnapshotsResponse>(c.ListSnapshotsAsync))
            .MapUnary<GetSnapshotRequest, GetSnapshotResponse>(M("GetSnapshot"), tracker.Track<GetSnapshotRequest, GetSnapshotResponse>(c.GetSnapshotAsync))
            .MapUnary<ControllerExpandVolumeRequest, ControllerExpandVolumeResponse>(
                M("ControllerExpandVolume"), tracker.Track<ControllerExpandVolumeRequest, ControllerExpandVolumeResponse>(c.ExpandVolumeAsync))
            .MapUnary<ControllerGetVolumeRequest, ControllerGetVolumeResponse>(M("ControllerGetVolume"), tracker.Track<ControllerGetVolumeRequest, ControllerGetVolumeResponse>(c.GetVolumeAsync))
            .MapUnary<ControllerModifyVolumeRequest, ControllerModifyVolumeResponse>(
                M("ControllerModifyVolume"), tracker.Track<ControllerModifyVolumeRequest, ControllerModifyVolumeResponse>(c.ModifyVolumeAsync));
    }

    private static void MapNode(GrpcServiceRegistry registry, NodeService n, CallTracker tracker)
    {
        static Google.Protobuf.Reflection.MethodDescriptor M(string name) => CsiServices.Method("Node", name);
        registry
            .MapUnary<NodeGetCapabilitiesRequest, NodeGetCapabilitiesResponse>(M("NodeGetCapabilities"), tracker.Track<NodeGetCapabilitiesRequest, NodeGetCapabilitiesResponse>(n.GetCapabilitiesAsync))
            .MapUnary<NodeGetInfoRequest, NodeGetInfoResponse>(M("NodeGetInfo"), tracker.Track<NodeGetInfoRequest, NodeGetInfoResponse>(n.GetInfoAsync))
            .MapUnary<NodeStageVolumeRequest, NodeStageVolumeResponse>(M("NodeStageVolume"), tracker.Track<NodeStageVolumeRequest, NodeStageVolumeResponse>(n.StageAsync))
            .MapUnary<NodeUnstageVolumeRequest, NodeUnstageVolumeResponse>(M("NodeUnstageVolume"), tracker.Track<NodeUnstageVolumeRequest, NodeUnstageVolumeResponse>(n.UnstageAsync))
            .MapUnary<NodePublishVolumeRequest, NodePublishVolumeResponse>(M("NodePublishVolume"), tracker.Track<NodePublishVolumeRequest, NodePublishVolumeResponse>(n.PublishAsync))
            .MapUnary<NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse>(M("NodeUnpublishVolume"), tracker.Track<NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse>(n.UnpublishAsync))
            .MapUnary<NodeGetVolumeStatsRequest, NodeGetVolumeStatsResponse>(M("NodeGetVolumeStats"), tracker.Track<NodeGetVolumeStatsRequest, NodeGetVolumeStatsResponse>(n.GetVolumeStatsAsync))
            .MapUnary<NodeExpandVolumeRequest, NodeExpandVolumeResponse>(M("NodeExpandVolume"), tracker.Track<NodeExpandVolumeRequest, NodeExpandVolumeResponse>(n.ExpandAsync));
    }

    /// <summary>
    /// A handler that registers with <paramref name="tracker"/> while it runs and sees a token that shutdown
    /// cancels too, so no handler outlives the journal it writes to.
    /// </summary>
    private static Func<TRequest, CallContext, Task<TResponse>> Track<TRequest, TResponse>(this CallTracker tracker,
        Func<TRequest, CallContext, Task<TResponse>> handler) => async (request, context) =>
    {
        using var call = tracker.Enter(context.CancellationToken);
        return await handler(request, context.WithCancellation(call.Token)).ConfigureAwait(false);
    };

    /// <summary>Methods called so often (liveness probes) that their calls are logged at Trace.</summary>
    public static IReadOnlySet<string> QuietMethods { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "/csi.v1.Identity/Probe" };
}
