using Loopvol.Csi.Services;
using Loopvol.Csi.V1;
using Loopvol.Grpc;

namespace Loopvol.Csi;

/// <summary>
/// Builds the routing table of every CSI service and binds the implemented methods; the rest answer UNIMPLEMENTED.
/// </summary>
public static class CsiRegistry
{
    public static GrpcServiceRegistry Create(IdentityService identity, ControllerService controller, bool enableAttach)
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

    /// <summary>Methods called so often (liveness probes) that their calls are logged at Trace.</summary>
    public static IReadOnlySet<string> QuietMethods { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "/csi.v1.Identity/Probe" };
}
