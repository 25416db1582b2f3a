using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Client = Loopvol.Csi.V1.SnapshotMetadata.SnapshotMetadataClient;

namespace Loopvol.Cluster.Services;

/// <summary>
/// The central controller's CSI SnapshotMetadata service (docs/cluster.md): each stream comes, unchanged, from the
/// node agent that owns the snapshots, message by message. The agent validates the request; the controller only
/// refuses a delta between snapshots of two nodes, which cannot be of one volume (INVALID_ARGUMENT, as snapshots of
/// different volumes are on one node). The stream runs under the caller's deadline, not an agent call's.
/// </summary>
public sealed class RoutingSnapshotMetadataService(Forwarder forward) : SnapshotMetadata.SnapshotMetadataBase
{
    public override async Task GetMetadataAllocated(GetMetadataAllocatedRequest request,
        IServerStreamWriter<GetMetadataAllocatedResponse> responseStream, ServerCallContext context)
    {
        var owner = await forward.Router.OwnerAsync(request.SnapshotId, ObjectKind.Snapshot, context.CancellationToken)
            .ConfigureAwait(false);
        await RelayAsync(owner, (client, call) => client.GetMetadataAllocated(request, call), responseStream, context)
            .ConfigureAwait(false);
    }

    public override async Task GetMetadataDelta(GetMetadataDeltaRequest request,
        IServerStreamWriter<GetMetadataDeltaResponse> responseStream, ServerCallContext context)
    {
        var token = context.CancellationToken;
        var baseOwner = await forward.Router.OwnerAsync(request.BaseSnapshotId, ObjectKind.Snapshot, token).ConfigureAwait(false);
        var targetOwner = await forward.Router.OwnerAsync(request.TargetSnapshotId, ObjectKind.Snapshot, token).ConfigureAwait(false);
        if (baseOwner is not null && targetOwner is not null && baseOwner.NodeId != targetOwner.NodeId)
        {
            throw new InvalidArgumentException(
                $"base_snapshot_id {request.BaseSnapshotId} is on node {baseOwner.NodeId} and target_snapshot_id " +
                $"{request.TargetSnapshotId} on node {targetOwner.NodeId}: snapshots of one volume are on its node");
        }
        // One unknown: the other's node answers NOT_FOUND for it.
        await RelayAsync(baseOwner ?? targetOwner, (client, call) => client.GetMetadataDelta(request, call), responseStream,
            context).ConfigureAwait(false);
    }

    /// <summary>
    /// Passes every message of the agent's stream on as it comes. An agent lost after the first message was passed
    /// on (whatever the connections would try again: UNAVAILABLE, a deadline, a connection reset reported as INTERNAL)
    /// is UNAVAILABLE, never tried again (that would repeat messages): the CO continues from the next offset.
    /// </summary>
    private Task<int> RelayAsync<T>(AgentAddress? owner, Func<Client, CallOptions, AsyncServerStreamingCall<T>> open,
        IServerStreamWriter<T> responseStream, ServerCallContext context)
    {
        async Task<int> Call(GrpcChannel channel, CallOptions call)
        {
            using var stream = open(new Client(channel), call.WithDeadline(context.Deadline));
            var relayed = 0;
            try
            {
                while (await stream.ResponseStream.MoveNext(call.CancellationToken).ConfigureAwait(false))
                {
                    await responseStream.WriteAsync(stream.ResponseStream.Current).ConfigureAwait(false);
                    relayed++;
                }
            }
            catch (RpcException e) when (relayed > 0 && AgentConnections.IsUnreachable(e))
            {
                throw new UnavailableException($"the agent's stream ended after {relayed} message(s): {e.StatusCode} " +
                                               $"{e.Status.Detail}; continue from the next starting_offset");
            }
            return relayed;
        }
        var token = context.CancellationToken;
        return owner is null ? forward.ToAnyAsync(Call, token) : forward.ToAsync(owner, Call, token);
    }
}
