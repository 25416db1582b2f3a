using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Journal;

namespace Loopvol.Csi.Services;

/// <summary>Snapshots and listings.</summary>
public sealed partial class ControllerService
{
    public override async Task<CreateSnapshotResponse> CreateSnapshot(CreateSnapshotRequest request, ServerCallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        var sourceText = Require.NotEmpty(request.SourceVolumeId, "source_volume_id");
        var (_, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.Snapshot, [], "CreateSnapshot");
        var source = Require.Lookup(sourceText, ObjectKind.Volume, options.NodeId)
                     ?? throw (pool.HoldsName(ObjectKind.Snapshot, name)
                         ? new AlreadyExistsException($"name {name} is a snapshot of another volume, not of source_volume_id {sourceText}")
                         : new NotFoundException($"source_volume_id {sourceText} does not exist"));
        var snapshot = await pool.CreateSnapshotAsync(name, source, context.CancellationToken);
        await pool.RecordKubernetesNamesAsync(snapshot.Id, names);
        return new CreateSnapshotResponse { Snapshot = _messages.Snapshot(snapshot) };
    }

    public override async Task<DeleteSnapshotResponse> DeleteSnapshot(DeleteSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.SnapshotId, "snapshot_id");
        if (Require.Lookup(text, ObjectKind.Snapshot, options.NodeId) is { } id)
        {
            await pool.DeleteSnapshotAsync(id, context.CancellationToken);
        }
        return new DeleteSnapshotResponse();
    }

    public override Task<ListSnapshotsResponse> ListSnapshots(ListSnapshotsRequest request, ServerCallContext context)
    {
        var max = MaxEntries(request.MaxEntries);
        var filter = new ListFilter();
        if (request.SnapshotId.Length > 0)
        {
            if (Require.Lookup(request.SnapshotId, ObjectKind.Snapshot, options.NodeId) is not { } id)
            {
                return Task.FromResult(new ListSnapshotsResponse()); // No snapshot has that ID.
            }
            filter = filter with { Id = id };
        }
        if (request.SourceVolumeId.Length > 0)
        {
            if (Require.Lookup(request.SourceVolumeId, ObjectKind.Volume, options.NodeId) is not { } source)
            {
                return Task.FromResult(new ListSnapshotsResponse()); // No volume of this node has that ID.
            }
            filter = filter with { SourceVolume = source.ToString() };
        }
        var page = pool.ListSnapshots(request.StartingToken, max, filter);
        return Task.FromResult(new ListSnapshotsResponse
        {
            Entries = { page.Items.Select(s => new ListSnapshotsResponse.Types.Entry { Snapshot = _messages.Snapshot(s) }) },
            NextToken = page.NextToken,
        });
    }

    public override Task<GetSnapshotResponse> GetSnapshot(GetSnapshotRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.SnapshotId, "snapshot_id");
        var snapshot = (Require.Lookup(text, ObjectKind.Snapshot, options.NodeId) is { } id ? pool.GetSnapshot(id) : null)
                       ?? throw new NotFoundException($"snapshot_id {text} does not exist");
        // The ID as the caller holds it: one made before this node was an agent keeps its untagged form.
        var answer = _messages.Snapshot(snapshot);
        answer.SnapshotId = text;
        return Task.FromResult(new GetSnapshotResponse { Snapshot = answer });
    }

    public override Task<ListVolumesResponse> ListVolumes(ListVolumesRequest request, ServerCallContext context)
    {
        var page = pool.ListVolumes(request.StartingToken, MaxEntries(request.MaxEntries), options.EnableAttach);
        return Task.FromResult(new ListVolumesResponse
        {
            Entries =
            {
                page.Items.Select(v => new ListVolumesResponse.Types.Entry
                {
                    Volume = _messages.Volume(v.Volume),
                    Status = new ListVolumesResponse.Types.VolumeStatus
                    {
                        VolumeCondition = CsiMessages.Condition(v.Condition),
                        PublishedNodeIds = { v.PublishedNodes },
                    },
                }),
            },
            NextToken = page.NextToken,
        });
    }

    public override Task<ControllerGetVolumeResponse> ControllerGetVolume(ControllerGetVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var status = (Require.Lookup(text, ObjectKind.Volume, options.NodeId) is { } id ? pool.GetVolumeStatus(id, options.EnableAttach) : null)
                     ?? throw new NotFoundException($"volume_id {text} does not exist");
        // The ID as the caller holds it: one made before this node was an agent keeps its untagged form.
        var volume = _messages.Volume(status.Volume);
        volume.VolumeId = text;
        return Task.FromResult(new ControllerGetVolumeResponse
        {
            Volume = volume,
            Status = new ControllerGetVolumeResponse.Types.VolumeStatus
            {
                VolumeCondition = CsiMessages.Condition(status.Condition),
                PublishedNodeIds = { status.PublishedNodes },
            },
        });
    }

    public override async Task<ControllerExpandVolumeResponse> ControllerExpandVolume(ControllerExpandVolumeRequest request, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var range = Require.Present(request.CapacityRange, "capacity_range");
        var (required, limit) = Require.Range(range);
        var volume = Volume(text);
        var size = await pool.ExpandVolumeAsync(volume.Id, required, limit, context.CancellationToken);
        var block = volume.Capabilities?.AllBlock == true;
        return new ControllerExpandVolumeResponse { CapacityBytes = size, NodeExpansionRequired = !block };
    }

    private static int MaxEntries(int max) =>
        max >= 0 ? max : throw Require.Invalid("max_entries must not be negative");
}
