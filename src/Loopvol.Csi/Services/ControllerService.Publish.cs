using Loopvol.Core.Ids;
using Loopvol.Csi.Validation;
using Loopvol.Csi.V1;
using Loopvol.Grpc;

namespace Loopvol.Csi.Services;

/// <summary>ControllerPublish/Unpublish: served only with --enable-attach.</summary>
public sealed partial class ControllerService
{
    public Task<ControllerPublishVolumeResponse> PublishVolumeAsync(ControllerPublishVolumeRequest request,
        CallContext context)
    {
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
            throw new RpcException(StatusCode.AlreadyExists,
                $"volume_capability does not match volume {text}, which was made for the other access type");
        }
        pool.PublishVolume(volume.Id, node, options.NodeId, request.Readonly);
        return Task.FromResult(new ControllerPublishVolumeResponse());
    }

    public Task<ControllerUnpublishVolumeResponse> UnpublishVolumeAsync(ControllerUnpublishVolumeRequest request,
        CallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        if (Require.Lookup(text, ObjectKind.Volume) is { } id)
        {
            pool.UnpublishVolume(id, request.NodeId);
        }
        return Task.FromResult(new ControllerUnpublishVolumeResponse());
    }
}
