using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;

namespace Loopvol.Csi.Services;

/// <summary>ControllerPublish/Unpublish: served only with --enable-attach; UNIMPLEMENTED otherwise.</summary>
public sealed partial class ControllerService
{
    public override async Task<ControllerPublishVolumeResponse> ControllerPublishVolume(ControllerPublishVolumeRequest request,
        ServerCallContext context)
    {
        if (!options.EnableAttach)
        {
            return await base.ControllerPublishVolume(request, context);
        }
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var node = Require.NotEmpty(request.NodeId, "node_id");
        var capability = Require.Present(request.VolumeCapability, "volume_capability");
        if (Capabilities.Problem(capability, "volume_capability") is { } problem)
        {
            throw Require.Invalid(problem);
        }
        var volume = Volume(text);
        if (volume.Capabilities is { } made && Capabilities.IsBlock([capability]) != made.AnyBlock)
        {
            throw new AlreadyExistsException(
                $"volume_capability does not match volume {text}, which was made for the other access type");
        }
        await pool.PublishVolumeAsync(volume.Id, node, options.NodeId, request.Readonly, options.MaxVolumesPerNode);
        return new ControllerPublishVolumeResponse();
    }

    public override async Task<ControllerUnpublishVolumeResponse> ControllerUnpublishVolume(ControllerUnpublishVolumeRequest request,
        ServerCallContext context)
    {
        if (!options.EnableAttach)
        {
            return await base.ControllerUnpublishVolume(request, context);
        }
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        if (Require.Lookup(text, ObjectKind.Volume, options.NodeId) is { } id)
        {
            await pool.UnpublishVolumeAsync(id, request.NodeId);
        }
        return new ControllerUnpublishVolumeResponse();
    }
}
