using Google.Protobuf.Collections;
using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Ids;
using Loopvol.Csi.V1;
using Loopvol.Csi.Validation;
using Client = Loopvol.Csi.V1.Controller.ControllerClient;

namespace Loopvol.Cluster.Services;

/// <summary>Listings merged over every agent, and capacity per node.</summary>
public sealed partial class RoutingControllerService
{
    public override async Task<ListVolumesResponse> ListVolumes(ListVolumesRequest request, ServerCallContext context)
    {
        var response = new ListVolumesResponse();
        response.NextToken = await MergeAsync(request.StartingToken, request.MaxEntries, response.Entries,
            async (client, token, max, call) =>
            {
                var page = await client.ListVolumesAsync(new ListVolumesRequest { StartingToken = token, MaxEntries = max }, call);
                return (page.Entries, page.NextToken);
            }, context).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// Filtered by snapshot or source volume: that object's node alone (any agent when none holds it, which lists
    /// nothing). Otherwise every agent's snapshots, merged.
    /// </summary>
    public override async Task<ListSnapshotsResponse> ListSnapshots(ListSnapshotsRequest request, ServerCallContext context)
    {
        Task<ListSnapshotsResponse> Call(GrpcChannel channel, CallOptions options) =>
            new Client(channel).ListSnapshotsAsync(request, options).ResponseAsync;
        if (request.SnapshotId.Length > 0)
        {
            return await forward.ToOwnerAsync(request.SnapshotId, ObjectKind.Snapshot, Call, context.CancellationToken).ConfigureAwait(false);
        }
        if (request.SourceVolumeId.Length > 0)
        {
            return await forward.ToOwnerAsync(request.SourceVolumeId, ObjectKind.Volume, Call, context.CancellationToken).ConfigureAwait(false);
        }
        var response = new ListSnapshotsResponse();
        response.NextToken = await MergeAsync(request.StartingToken, request.MaxEntries, response.Entries,
            async (client, token, max, call) =>
            {
                var page = await client.ListSnapshotsAsync(
                    new ListSnapshotsRequest { StartingToken = token, MaxEntries = max, Secrets = { request.Secrets } }, call);
                return (page.Entries, page.NextToken);
            }, context).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// For a node's topology segment, that node's agent answers (a segment of no agent's node gets any agent's answer: none); with no
    /// topology, the sum over every agent, each of which must answer.
    /// </summary>
    public override async Task<GetCapacityResponse> GetCapacity(GetCapacityRequest request, ServerCallContext context)
    {
        Task<GetCapacityResponse> Call(GrpcChannel channel, CallOptions options) =>
            new Client(channel).GetCapacityAsync(request, options).ResponseAsync;
        if (request.AccessibleTopology is { } topology)
        {
            var agent = topology.Segments.TryGetValue(NodeTopology.NodeKey, out var node)
                ? forward.Agents.FirstOrDefault(a => a.NodeId == node)
                : null;
            return agent is null
                ? await forward.ToAnyAsync(Call, context.CancellationToken).ConfigureAwait(false)
                : await forward.ToAsync(agent, Call, context.CancellationToken).ConfigureAwait(false);
        }
        var answers = await Task.WhenAll(forward.Agents.Select(a => forward.ToAsync(a, Call, context.CancellationToken)))
            .ConfigureAwait(false);
        return new GetCapacityResponse { AvailableCapacity = answers.Sum(a => a.AvailableCapacity) };
    }

    /// <summary>Reads every agent's pages into <paramref name="entries"/>, as <see cref="MergedListing"/> orders them.</summary>
    private Task<string> MergeAsync<TEntry>(string startingToken, int maxEntries, RepeatedField<TEntry> entries,
        Func<Client, string, int, CallOptions, Task<(RepeatedField<TEntry> Entries, string NextToken)>> page,
        ServerCallContext context) =>
        MergedListing.ReadAsync(forward.Agents, startingToken, maxEntries, async (agent, token, max, cancellationToken) =>
        {
            var (read, next) = await forward.ToAsync(agent, (channel, call) => page(new Client(channel), token, max, call),
                cancellationToken).ConfigureAwait(false);
            entries.AddRange(read);
            return (read.Count, next);
        }, context.CancellationToken);
}
