using Google.Protobuf.WellKnownTypes;
using Loopvol.Core.Ids;
using Loopvol.Csi.Validation;
using Loopvol.Csi.V1;
using Loopvol.Grpc;
using Loopvol.Journal;
using Loopvol.Pool;
using Loopvol.Pool.Model;

namespace Loopvol.Csi.Services;

/// <summary>Snapshots and listings.</summary>
public sealed partial class ControllerService
{
    public Task<CreateSnapshotResponse> CreateSnapshotAsync(CreateSnapshotRequest request, CallContext context)
    {
        var name = Require.NotEmpty(request.Name, "name");
        var sourceText = Require.NotEmpty(request.SourceVolumeId, "source_volume_id");
        var (_, names) = KubernetesParameters.Split(request.Parameters, KubernetesParameters.Snapshot, [], "CreateSnapshot");
        var source = Require.Lookup(sourceText, ObjectKind.Volume)
                     ?? throw new RpcException(StatusCode.NotFound, $"source_volume_id {sourceText} does not exist");
        var snapshot = pool.CreateSnapshot(name, source, context.CancellationToken);
        pool.RecordKubernetesNames(snapshot.Id, names);
        return Task.FromResult(new CreateSnapshotResponse { Snapshot = ToCsi(snapshot) });
    }

    public Task<DeleteSnapshotResponse> DeleteSnapshotAsync(DeleteSnapshotRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.SnapshotId, "snapshot_id");
        if (Require.Lookup(text, ObjectKind.Snapshot) is { } id)
        {
            pool.DeleteSnapshot(id, context.CancellationToken);
        }
        return Task.FromResult(new DeleteSnapshotResponse());
    }

    public Task<ListSnapshotsResponse> ListSnapshotsAsync(ListSnapshotsRequest request, CallContext context)
    {
        var max = MaxEntries(request.MaxEntries);
        var filter = new ListFilter();
        if (request.SnapshotId.Length > 0)
        {
            if (Require.Lookup(request.SnapshotId, ObjectKind.Snapshot) is not { } id)
            {
                return Task.FromResult(new ListSnapshotsResponse()); // No snapshot has that ID.
            }
            filter = filter with { Id = id };
        }
        if (request.SourceVolumeId.Length > 0)
        {
            filter = filter with { SourceVolume = request.SourceVolumeId };
        }
        var page = pool.ListSnapshots(request.StartingToken, max, filter);
        return Task.FromResult(new ListSnapshotsResponse
        {
            Entries = { page.Items.Select(r => new ListSnapshotsResponse.Types.Entry { Snapshot = ToCsi(StoragePool.SnapshotOf(r)) }) },
            NextToken = page.NextToken,
        });
    }

    public Task<GetSnapshotResponse> GetSnapshotAsync(GetSnapshotRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.SnapshotId, "snapshot_id");
        var snapshot = (Require.Lookup(text, ObjectKind.Snapshot) is { } id ? pool.GetSnapshot(id) : null)
                       ?? throw new RpcException(StatusCode.NotFound, $"snapshot_id {text} does not exist");
        return Task.FromResult(new GetSnapshotResponse { Snapshot = ToCsi(snapshot) });
    }

    public Task<ListVolumesResponse> ListVolumesAsync(ListVolumesRequest request, CallContext context)
    {
        var page = pool.ListVolumes(request.StartingToken, MaxEntries(request.MaxEntries));
        return Task.FromResult(new ListVolumesResponse
        {
            Entries =
            {
                page.Items.Select(r => new ListVolumesResponse.Types.Entry
                {
                    Volume = ToCsi(StoragePool.Info(r)),
                    Status = new ListVolumesResponse.Types.VolumeStatus
                    {
                        VolumeCondition = ToCsi(pool.ConditionOf(r)),
                        PublishedNodeIds = { options.EnableAttach ? pool.Journal.ControllerPublications(r.Id.ToString()) : [] },
                    },
                }),
            },
            NextToken = page.NextToken,
        });
    }

    public Task<ControllerGetVolumeResponse> GetVolumeAsync(ControllerGetVolumeRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var id = Require.Lookup(text, ObjectKind.Volume);
        var record = (id is { } found ? pool.Journal.Get(found) : null) is { State: Journal.Model.ReservationState.Created } r
            ? r
            : throw new RpcException(StatusCode.NotFound, $"volume_id {text} does not exist");
        return Task.FromResult(new ControllerGetVolumeResponse
        {
            Volume = ToCsi(StoragePool.Info(record)),
            Status = new ControllerGetVolumeResponse.Types.VolumeStatus { VolumeCondition = ToCsi(pool.ConditionOf(record)) },
        });
    }

    public Task<ControllerExpandVolumeResponse> ExpandVolumeAsync(ControllerExpandVolumeRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        var range = Require.Present(request.CapacityRange, "capacity_range");
        var (required, limit) = Require.Range(range);
        var volume = Volume(text);
        var size = pool.ExpandVolume(volume.Id, required, limit, context.CancellationToken);
        var block = volume.Capabilities?.AllBlock == true;
        return Task.FromResult(new ControllerExpandVolumeResponse { CapacityBytes = size, NodeExpansionRequired = !block });
    }

    public Task<ControllerModifyVolumeResponse> ModifyVolumeAsync(ControllerModifyVolumeRequest request, CallContext context)
    {
        var text = Require.NotEmpty(request.VolumeId, "volume_id");
        if (request.MutableParameters.Count > 0)
        {
            throw Require.Invalid($"mutable_parameters: '{request.MutableParameters.Keys.Order(StringComparer.Ordinal).First()}' " +
                                  "cannot be changed; this driver has no mutable parameters");
        }
        Volume(text);
        return Task.FromResult(new ControllerModifyVolumeResponse());
    }

    private static int MaxEntries(int max) =>
        max >= 0 ? max : throw Require.Invalid("max_entries must not be negative");

    private static Snapshot ToCsi(SnapshotInfo s) => new()
    {
        SnapshotId = s.Id.ToString(),
        SourceVolumeId = s.SourceVolume.ToString(),
        SizeBytes = s.SizeBytes,
        CreationTime = Timestamp.FromDateTimeOffset(s.CreatedAt),
        ReadyToUse = true,
        GroupSnapshotId = s.Group?.ToString() ?? "",
    };

    private static VolumeCondition ToCsi(Condition c) => new() { Abnormal = c.Abnormal, Message = c.Message };
}
