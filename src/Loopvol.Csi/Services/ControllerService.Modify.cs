using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Journal.Model;
using Loopvol.Pool.Model;

namespace Loopvol.Csi.Services;

/// <summary>ControllerModifyVolume and CreateVolume's mutable parameters: thick or thin provisioning (docs/provisioning.md).</summary>
public sealed partial class ControllerService
{
    public override async Task<ControllerModifyVolumeResponse> ControllerModifyVolume(ControllerModifyVolumeRequest request,
        ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var provisioning = MutableParameters.Parse(request.MutableParameters);
        await pool.ModifyVolumeAsync(Volume(text).Id, provisioning, context.CancellationToken);
        return new ControllerModifyVolumeResponse();
    }

    /// <summary>
    /// CreateVolume's mutable parameters, applied to the volume it made (or found made by an earlier attempt). When
    /// they cannot be, the volume is deleted again, so a failed CreateVolume leaves nothing behind. A volume an
    /// earlier call already made thick is never refused here (the pool only tops its reservation up), so a repeat of
    /// a CreateVolume that succeeded cannot delete a volume in use.
    /// </summary>
    private async Task ProvisionAsync(VolumeInfo volume, Provisioning? provisioning, CancellationToken cancellationToken)
    {
        if (provisioning is null)
        {
            return;
        }
        try
        {
            await pool.ModifyVolumeAsync(volume.Id, provisioning, cancellationToken);
        }
        catch (Exception e) when (e is ResourceExhaustedException or OutOfRangeException)
        {
            await pool.DeleteVolumeAsync(volume.Id, CancellationToken.None);
            throw;
        }
    }
}
