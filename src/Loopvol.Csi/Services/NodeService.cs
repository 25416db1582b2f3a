using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Journal.Model;
using Loopvol.NodeHost;
using Loopvol.NodeHost.Mounts;
using Cap = Loopvol.Csi.V1.NodeServiceCapability.Types.RPC.Types.Type;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Csi.Services;

/// <summary>The CSI Node service over NodeVolumes: validate, call, map.</summary>
public sealed class NodeService(NodeVolumes volumes, NodeOptions options) : Node.NodeBase
{
    private const string DefaultFsType = "ext4";

    public override Task<NodeGetCapabilitiesResponse> NodeGetCapabilities(NodeGetCapabilitiesRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeGetCapabilitiesResponse
        {
            Capabilities =
            {
                new[]
                {
                    Cap.StageUnstageVolume, Cap.GetVolumeStats, Cap.ExpandVolume, Cap.VolumeCondition,
                    Cap.SingleNodeMultiWriter, Cap.VolumeMountGroup,
                }.Select(t => new NodeServiceCapability { Rpc = new() { Type = t } }),
            },
        });

    public override Task<NodeGetInfoResponse> NodeGetInfo(NodeGetInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new NodeGetInfoResponse
        {
            NodeId = options.NodeId,
            MaxVolumesPerNode = options.MaxVolumesPerNode,
            AccessibleTopology = NodeTopology.Of(options.NodeId),
        });

    public override async Task<NodeStageVolumeResponse> NodeStageVolume(NodeStageVolumeRequest request, ServerCallContext context)
    {
        var volume = VolumeId(request.VolumeId);
        var staging = Paths.Clean(request.StagingTargetPath, "staging_target_path");
        var capability = Capability(request.VolumeCapability);
        var block = capability.Block is not null;
        var fsType = block ? "" : FsType(capability, request.VolumeContext);
        if (!block && MountOptions.Problem(fsType, capability.Mount.MountFlags, "volume_capability.mount.mount_flags") is { } problem)
        {
            throw Require.Invalid(problem);
        }
        var arguments = block
            ? StageArguments.ForBlock()
            : new StageArguments(false, fsType, capability.Mount.MountFlags,
                capability.Mount.VolumeMountGroup is { Length: > 0 } g ? g : null);
        await volumes.StageAsync(new StageRequest(volume, staging, arguments), context.CancellationToken).ConfigureAwait(false);
        return new NodeStageVolumeResponse();
    }

    public override async Task<NodeUnstageVolumeResponse> NodeUnstageVolume(NodeUnstageVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var staging = Paths.Clean(request.StagingTargetPath, "staging_target_path");
        await volumes.UnstageAsync(Existing(text), staging, context.CancellationToken);
        return new NodeUnstageVolumeResponse();
    }

    public override async Task<NodePublishVolumeResponse> NodePublishVolume(NodePublishVolumeRequest request, ServerCallContext context)
    {
        var volume = VolumeId(request.VolumeId);
        var staging = Paths.Clean(request.StagingTargetPath, "staging_target_path");
        var target = Paths.Clean(request.TargetPath, "target_path");
        var capability = Capability(request.VolumeCapability);
        var readOnly = request.Readonly || capability.AccessMode.Mode == Mode.SingleNodeReaderOnly;
        await volumes.PublishAsync(new PublishRequest(volume, staging, target, readOnly, capability.Block is not null), context.CancellationToken);
        return new NodePublishVolumeResponse();
    }

    public override async Task<NodeUnpublishVolumeResponse> NodeUnpublishVolume(NodeUnpublishVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var target = Paths.Clean(request.TargetPath, "target_path");
        await volumes.UnpublishAsync(Existing(text), target, context.CancellationToken);
        return new NodeUnpublishVolumeResponse();
    }

    public override Task<NodeGetVolumeStatsResponse> NodeGetVolumeStats(NodeGetVolumeStatsRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        // Only compared with the paths the journal recorded, never mounted: any other path is simply not found.
        var path = Require.NotEmpty(request.VolumePath, "volume_path");
        var volume = Existing(text);
        var stats = volumes.Stats(volume, path);
        var response = new NodeGetVolumeStatsResponse
        {
            VolumeCondition = new VolumeCondition { Abnormal = stats.Abnormal, Message = stats.Message },
        };
        response.Usage.Add(new VolumeUsage
        {
            Unit = VolumeUsage.Types.Unit.Bytes,
            Total = stats.TotalBytes ?? 0,
            Available = stats.AvailableBytes ?? 0,
            Used = stats.UsedBytes ?? 0,
        });
        if (stats.TotalInodes is { } inodes)
        {
            response.Usage.Add(new VolumeUsage
            {
                Unit = VolumeUsage.Types.Unit.Inodes,
                Total = inodes,
                Available = stats.FreeInodes ?? 0,
                Used = inodes - (stats.FreeInodes ?? 0),
            });
        }
        return Task.FromResult(response);
    }

    public override async Task<NodeExpandVolumeResponse> NodeExpandVolume(NodeExpandVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        // Only compared with the paths the journal recorded, never mounted: any other path is simply not found.
        var path = Require.NotEmpty(request.VolumePath, "volume_path");
        var volume = Existing(text);
        if (request.VolumeCapability is { } capability && Capabilities.Problem(capability, "volume_capability") is { } problem)
        {
            throw Require.Invalid(problem);
        }
        var size = await volumes.ExpandAsync(volume, path, context.CancellationToken).ConfigureAwait(false);
        return new NodeExpandVolumeResponse { CapacityBytes = size };
    }

    /// <summary>
    /// A volume ID that reaches the node's paths: anything but one of ours is refused first; one of another node's
    /// volumes is NOT_FOUND here.
    /// </summary>
    private ObjectId VolumeId(string? text) =>
        !RoutedId.TryParse(Require.NotEmpty(text, "volume_id"), ObjectKind.Volume, out var id)
            ? throw Require.Invalid($"volume_id '{text}' is not a volume ID of this driver")
            : id.Value.IsFor(options.NodeId)
                ? id.Value.Id
                : throw new NotFoundException($"volume_id {text} is a volume of another node, not of {options.NodeId}");

    /// <summary>A volume ID to look up: one this driver never issues, or another node's, names no volume here (NOT_FOUND).</summary>
    private ObjectId Existing(string text) =>
        Require.Lookup(text, ObjectKind.Volume, options.NodeId) ?? throw new NotFoundException($"volume_id {text} does not exist");

    private static VolumeCapability Capability(VolumeCapability? capability)
    {
        var value = Require.Present(capability, "volume_capability");
        return Capabilities.Problem(value, "volume_capability") is { } problem ? throw Require.Invalid(problem) : value;
    }

    private static string FsType(VolumeCapability capability, IDictionary<string, string> context) =>
        capability.Mount.FsType is { Length: > 0 } fs ? fs
        : context.TryGetValue("fsType", out var fromContext) && Capabilities.FileSystems.Contains(fromContext) ? fromContext
        : DefaultFsType;
}
