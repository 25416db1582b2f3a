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
        GroupControllerService groups, bool enableAttach)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(controller);
        var registry = new GrpcServiceRegistry(CsiServices.All);
        registry
            .MapUnary<GetPluginInfoRequest, GetPluginInfoResponse>(
                CsiServices.Method("Identity", "GetPluginInfo"), identity.GetPluginInfoAsync)
            .MapUnary<GetPluginCapabilitiesRequest, GetPluginCapabilitiesResponse>(
                CsiServices.Method("Identity", "GetPluginCapabilities"), identity.GetPluginCapabilitiesAsync)
            .MapUnary<ProbeRequest, ProbeResponse>(
                CsiServices.Method("Identity", "Probe"), identity.ProbeAsync);
        MapController(registry, controller);
        MapNode(registry, node);
        registry
            .MapUnary<GroupControllerGetCapabilitiesRequest, GroupControllerGetCapabilitiesResponse>(
                CsiServices.Method("GroupController", "GroupControllerGetCapabilities"), groups.GetCapabilitiesAsync)
            .MapUnary<CreateVolumeGroupSnapshotRequest, CreateVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "CreateVolumeGroupSnapshot"), groups.CreateAsync)
            .MapUnary<DeleteVolumeGroupSnapshotRequest, DeleteVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "DeleteVolumeGroupSnapshot"), groups.DeleteAsync)
            .MapUnary<GetVolumeGroupSnapshotRequest, GetVolumeGroupSnapshotResponse>(
                CsiServices.Method("GroupController", "GetVolumeGroupSnapshot"), groups.GetAsync);
        if (enableAttach)
        {
            registry
                .MapUnary<ControllerPublishVolumeRequest, ControllerPublishVolumeResponse>(
                    CsiServices.Method("Controller", "ControllerPublishVolume"), controller.PublishVolumeAsync)
                .MapUnary<ControllerUnpublishVolumeRequest, ControllerUnpublishVolumeResponse>(
                    CsiServices.Method("Controller", "ControllerUnpublishVolume"), controller.UnpublishVolumeAsync);
        }
        return registry;
    }

    private static void MapController(GrpcServiceRegistry registry, ControllerService c)
    {
        static Google.Protobuf.Reflection.MethodDescriptor M(string name) => CsiServices.Method("Controller", name);
        registry
            .MapUnary<ControllerGetCapabilitiesRequest, ControllerGetCapabilitiesResponse>(
                M("ControllerGetCapabilities"), c.GetCapabilitiesAsync)
            .MapUnary<CreateVolumeRequest, CreateVolumeResponse>(M("CreateVolume"), c.CreateVolumeAsync)
            .MapUnary<DeleteVolumeRequest, DeleteVolumeResponse>(M("DeleteVolume"), c.DeleteVolumeAsync)
            .MapUnary<ValidateVolumeCapabilitiesRequest, ValidateVolumeCapabilitiesResponse>(
                M("ValidateVolumeCapabilities"), c.ValidateVolumeCapabilitiesAsync)
            .MapUnary<ListVolumesRequest, ListVolumesResponse>(M("ListVolumes"), c.ListVolumesAsync)
            .MapUnary<GetCapacityRequest, GetCapacityResponse>(M("GetCapacity"), c.GetCapacityAsync)
            .MapUnary<CreateSnapshotRequest, CreateSnapshotResponse>(M("CreateSnapshot"), c.CreateSnapshotAsync)
            .MapUnary<DeleteSnapshotRequest, DeleteSnapshotResponse>(M("DeleteSnapshot"), c.DeleteSnapshotAsync)
            .MapUnary<ListSnapshotsRequest, ListSnapshotsResponse>(M("ListSnapshots"), c.ListSnapshotsAsync)
            .MapUnary<GetSnapshotRequest, GetSnapshotResponse>(M("GetSnapshot"), c.GetSnapshotAsync)
            .MapUnary<ControllerExpandVolumeRequest, ControllerExpandVolumeResponse>(
                M("ControllerExpandVolume"), c.ExpandVolumeAsync)
            .MapUnary<ControllerGetVolumeRequest, ControllerGetVolumeResponse>(M("ControllerGetVolume"), c.GetVolumeAsync)
            .MapUnary<ControllerModifyVolumeRequest, ControllerModifyVolumeResponse>(
                M("ControllerModifyVolume"), c.ModifyVolumeAsync);
    }

    private static void MapNode(GrpcServiceRegistry registry, NodeService n)
    {
        static Google.Protobuf.Reflection.MethodDescriptor M(string name) => CsiServices.Method("Node", name);
        registry
            .MapUnary<NodeGetCapabilitiesRequest, NodeGetCapabilitiesResponse>(M("NodeGetCapabilities"), n.GetCapabilitiesAsync)
            .MapUnary<NodeGetInfoRequest, NodeGetInfoResponse>(M("NodeGetInfo"), n.GetInfoAsync)
            .MapUnary<NodeStageVolumeRequest, NodeStageVolumeResponse>(M("NodeStageVolume"), n.StageAsync)
            .MapUnary<NodeUnstageVolumeRequest, NodeUnstageVolumeResponse>(M("NodeUnstageVolume"), n.UnstageAsync)
            .MapUnary<NodePublishVolumeRequest, NodePublishVolumeResponse>(M("NodePublishVolume"), n.PublishAsync)
            .MapUnary<NodeUnpublishVolumeRequest, NodeUnpublishVolumeResponse>(M("NodeUnpublishVolume"), n.UnpublishAsync)
            .MapUnary<NodeGetVolumeStatsRequest, NodeGetVolumeStatsResponse>(M("NodeGetVolumeStats"), n.GetVolumeStatsAsync)
            .MapUnary<NodeExpandVolumeRequest, NodeExpandVolumeResponse>(M("NodeExpandVolume"), n.ExpandAsync);
    }

    /// <summary>Methods called so often (liveness probes) that their calls are logged at Trace.</summary>
    public static IReadOnlySet<string> QuietMethods { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "/csi.v1.Identity/Probe" };
}
