using Grpc.Core;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.Mapping;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Loopvol.Pool;
using Loopvol.Pool.Extents;

namespace Loopvol.Csi.Services;

/// <summary>
/// The CSI SnapshotMetadata service (docs/snapshot-metadata.md): the allocated blocks of a snapshot, and the blocks
/// that changed between two snapshots of one volume, streamed as variable-length ranges of whole blocks, at most
/// <c>max_results</c> to a message (<see cref="DefaultMaxResults"/> when 0).
/// </summary>
public sealed class SnapshotMetadataService(StoragePool pool, string nodeId) : SnapshotMetadata.SnapshotMetadataBase
{
    /// <summary>Ranges per message when the request leaves it to the driver: about 24 KiB of protobuf.</summary>
    public const int DefaultMaxResults = 1024;

    public override async Task GetMetadataAllocated(GetMetadataAllocatedRequest request,
        IServerStreamWriter<GetMetadataAllocatedResponse> responseStream, ServerCallContext context)
    {
        var text = Require.NotEmpty(request.SnapshotId, "snapshot_id");
        var (offset, max) = Window(request.StartingOffset, request.MaxResults);
        var id = Snapshot(text, "snapshot_id");
        using var stream = pool.GetAllocatedBlocks(id, offset, context.CancellationToken);
        await SendAsync(stream, max, page => responseStream.WriteAsync(new GetMetadataAllocatedResponse
        {
            BlockMetadataType = BlockMetadataType.VariableLength,
            VolumeCapacityBytes = stream.CapacityBytes,
            BlockMetadata = { CsiMessages.Blocks(page) },
        }), context.CancellationToken);
    }

    public override async Task GetMetadataDelta(GetMetadataDeltaRequest request,
        IServerStreamWriter<GetMetadataDeltaResponse> responseStream, ServerCallContext context)
    {
        var baseText = Require.NotEmpty(request.BaseSnapshotId, "base_snapshot_id");
        var targetText = Require.NotEmpty(request.TargetSnapshotId, "target_snapshot_id");
        var (offset, max) = Window(request.StartingOffset, request.MaxResults);
        var baseId = Snapshot(baseText, "base_snapshot_id");
        var targetId = Snapshot(targetText, "target_snapshot_id");
        using var stream = pool.GetChangedBlocks(baseId, targetId, offset, context.CancellationToken);
        await SendAsync(stream, max, page => responseStream.WriteAsync(new GetMetadataDeltaResponse
        {
            BlockMetadataType = BlockMetadataType.VariableLength,
            VolumeCapacityBytes = stream.CapacityBytes,
            BlockMetadata = { CsiMessages.Blocks(page) },
        }), context.CancellationToken);
    }

    /// <summary>CSI: a negative starting_offset is OUT_OF_RANGE (as one past the size is); a negative max_results invalid.</summary>
    private static (long Offset, int Max) Window(long startingOffset, int maxResults)
    {
        if (startingOffset < 0)
        {
            throw new OutOfRangeException($"starting_offset {startingOffset} must not be negative");
        }
        if (maxResults < 0)
        {
            throw Require.Invalid($"max_results {maxResults} must not be negative");
        }
        return (startingOffset, maxResults == 0 ? DefaultMaxResults : maxResults);
    }

    /// <summary>A snapshot of this node; text that is no such ID names no snapshot here.</summary>
    private ObjectId Snapshot(string text, string field) =>
        Require.Lookup(text, ObjectKind.Snapshot, nodeId) ?? throw new NotFoundException($"{field} {text} does not exist");

    /// <summary>Every page, each in its own message; an answer with no range at all is one message with none.</summary>
    private static async Task SendAsync(MetadataStream stream, int max, Func<IReadOnlyList<BlockRange>, Task> write,
        CancellationToken cancellationToken)
    {
        var sent = false;
        while (true)
        {
            var page = await stream.NextAsync(max, cancellationToken).ConfigureAwait(false);
            if (page.Count == 0 && sent)
            {
                return;
            }
            await write(page).ConfigureAwait(false);
            sent = true;
            if (page.Count == 0)
            {
                return;
            }
        }
    }
}
