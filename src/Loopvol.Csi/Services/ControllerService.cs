using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool;
using Loopvol.Pool.Model;
using Cap = Loopvol.Csi.V1.ControllerServiceCapability.Types.RPC.Types.Type;

namespace Loopvol.Csi.Services;

/// <summary>
/// The CSI Controller service over the storage pool: it validates each request before any side effect, calls the
/// pool, and maps the result. Domain errors become status codes in one place (CsiExceptionMapper).
/// </summary>
public sealed partial class ControllerService(StoragePool pool, ControllerOptions options) : Controller.ControllerBase
{
    private const string FsTypeParameter = CsiMessages.FsTypeKey;
    private readonly CsiMessages _messages = new(options.NodeId, options.TagIds);

    public override Task<ControllerGetCapabilitiesResponse> ControllerGetCapabilities(ControllerGetCapabilitiesRequest request,
        ServerCallContext context) => Task.FromResult(CapabilitiesOf(options.EnableAttach));

    /// <summary>What this controller offers, with or without ControllerPublish/Unpublish.</summary>
    public static ControllerGetCapabilitiesResponse CapabilitiesOf(bool enableAttach)
    {
        var types = new List<Cap>
        {
            Cap.CreateDeleteVolume, Cap.CreateDeleteSnapshot, Cap.ListVolumes, Cap.ListSnapshots, Cap.GetCapacity,
            Cap.CloneVolume, Cap.ExpandVolume, Cap.GetVolume, Cap.VolumeCondition, Cap.SingleNodeMultiWriter,
            Cap.ModifyVolume,
        };
        if (enableAttach)
        {
            types.AddRange([Cap.PublishUnpublishVolume, Cap.PublishReadonly, Cap.ListVolumesPublishedNodes]);
        }
        return new ControllerGetCapabilitiesResponse
        {
            Capabilities = { types.Select(t => new ControllerServiceCapability { Rpc = new() { Type = t } }) },
        };
    }

    public override async Task<CreateVolumeResponse> CreateVolume(CreateVolumeRequest request, ServerCallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        Capabilities.Check(request.VolumeCapabilities, "volume_capabilities");
        var (required, limit) = Require.Range(request.CapacityRange);
        var (parameters, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.Volume, [FsTypeParameter], "CreateVolume");
        CheckFsType(parameters, request.VolumeCapabilities);
        var source = Source(request.VolumeContentSource);
        var provisioning = MutableParameters.Parse(request.MutableParameters);
        if (!pool.HoldsName(ObjectKind.Volume, name))
        {
            // A name already held is compared with its first request instead, accessibility included: ALREADY_EXISTS.
            NodeTopology.Admit(request.AccessibilityRequirements, options.NodeId);
        }
        var volume = await pool.CreateVolumeAsync(new VolumeRequest
        {
            Name = name,
            RequiredBytes = required,
            LimitBytes = limit,
            MinimumBytes = FileSystemSizes.MinimumBytes(
                parameters.TryGetValue(FsTypeParameter, out var fs) ? fs : Capabilities.FsType(request.VolumeCapabilities)),
            Parameters = parameters,
            Source = source,
            Accessibility = NodeTopology.Canonical(request.AccessibilityRequirements),
            Capabilities = Capabilities.Canonical(request.VolumeCapabilities),
        }, context.CancellationToken);
        await pool.RecordKubernetesNamesAsync(volume.Id, names);
        await ProvisionAsync(volume, provisioning, context.CancellationToken);
        return new CreateVolumeResponse { Volume = _messages.Volume(volume) };
    }

    public override async Task<DeleteVolumeResponse> DeleteVolume(DeleteVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        if (Require.Lookup(text, ObjectKind.Volume, options.NodeId) is { } id)
        {
            await pool.DeleteVolumeAsync(id, context.CancellationToken);
        }
        return new DeleteVolumeResponse();
    }

    public override Task<ValidateVolumeCapabilitiesResponse> ValidateVolumeCapabilities(
        ValidateVolumeCapabilitiesRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        if (request.VolumeCapabilities.Count == 0)
        {
            throw Require.Invalid("volume_capabilities is required");
        }
        var volume = Volume(text);
        var problems = request.VolumeCapabilities.Select((c, i) => Capabilities.Problem(c, $"volume_capabilities[{i}]"))
            .OfType<string>().ToList();
        var unknown = request.Parameters.Keys.Where(k => k != FsTypeParameter && !KubernetesParameters.Volume.Contains(k));
        problems.AddRange(unknown.Select(k => $"parameters: unknown key '{k}'"));
        if (MutableParameters.Problem(request.MutableParameters) is { } mutable)
        {
            problems.Add(mutable);
        }
        if (volume.Capabilities is { } made && Capabilities.IsBlock(request.VolumeCapabilities) != made.AnyBlock)
        {
            problems.Add("volume_capabilities: the volume was made for the other access type (mount or block)");
        }
        var response = new ValidateVolumeCapabilitiesResponse();
        if (problems.Count > 0)
        {
            response.Message = string.Join("; ", problems);
            return Task.FromResult(response);
        }
        response.Confirmed = new ValidateVolumeCapabilitiesResponse.Types.Confirmed
        {
            VolumeCapabilities = { request.VolumeCapabilities },
            VolumeContext = { request.VolumeContext },
            Parameters = { request.Parameters },
            MutableParameters = { request.MutableParameters },
        };
        return Task.FromResult(response);
    }

    public override Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)
    {
        foreach (var (i, capability) in request.VolumeCapabilities.Index())
        {
            if (Capabilities.Problem(capability, $"volume_capabilities[{i}]") is not null)
            {
                return Task.FromResult(new GetCapacityResponse()); // No capacity for what cannot be made.
            }
        }
        if (request.AccessibleTopology is { } topology &&
            !(topology.Segments.Count == 1 && topology.Segments.TryGetValue(NodeTopology.NodeKey, out var node) && node == options.NodeId))
        {
            return Task.FromResult(new GetCapacityResponse());
        }
        return Task.FromResult(new GetCapacityResponse { AvailableCapacity = pool.AvailableBytes() });
    }

    private VolumeInfo Volume(string text) =>
        (Require.Lookup(text, ObjectKind.Volume, options.NodeId) is { } id ? pool.GetVolume(id) : null)
        ?? throw new NotFoundException($"volume_id {text} does not exist");

    private ContentSource? Source(VolumeContentSource? source) => source?.TypeCase switch
    {
        null or VolumeContentSource.TypeOneofCase.None => null,
        VolumeContentSource.TypeOneofCase.Snapshot => new ContentSource(
            Require.Lookup(Require.NotEmpty(source.Snapshot.SnapshotId, "volume_content_source.snapshot.snapshot_id"),
                ObjectKind.Snapshot, options.NodeId)
            ?? throw new NotFoundException($"volume_content_source.snapshot.snapshot_id {source.Snapshot.SnapshotId} does not exist")),
        VolumeContentSource.TypeOneofCase.Volume => new ContentSource(
            Require.Lookup(Require.NotEmpty(source.Volume.VolumeId, "volume_content_source.volume.volume_id"),
                ObjectKind.Volume, options.NodeId)
            ?? throw new NotFoundException($"volume_content_source.volume.volume_id {source.Volume.VolumeId} does not exist")),
        _ => throw Require.Invalid("volume_content_source has an unknown type"),
    };

    private static void CheckFsType(IDictionary<string, string> parameters, IEnumerable<VolumeCapability> capabilities)
    {
        if (parameters.TryGetValue(FsTypeParameter, out var fs))
        {
            if (!Capabilities.FileSystems.Contains(fs))
            {
                throw Require.Invalid($"parameters: {FsTypeParameter} '{fs}' is not supported (ext4 or xfs)");
            }
            if (Capabilities.FsType(capabilities) is { Length: > 0 } asked && asked != fs)
            {
                throw Require.Invalid(
                    $"parameters: {FsTypeParameter} '{fs}' contradicts volume_capabilities mount.fs_type '{asked}'");
            }
        }
    }
}
