using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Pool;

/// <summary>Controller publication: which node a volume is attached to, in deployments that run an attacher.</summary>
public sealed partial class StoragePool
{
    /// <summary>
    /// Publishes a volume to <paramref name="nodeId"/>, which must be <paramref name="thisNode"/> (volumes exist
    /// only here). Unknown volume or node: <see cref="NotFoundException"/>. A node that already has
    /// <paramref name="maxVolumes"/> other volumes published (when above 0): <see cref="ResourceExhaustedException"/>.
    /// Repeated: no change.
    /// </summary>
    public async Task PublishVolumeAsync(ObjectId id, string nodeId, string thisNode, bool readOnly, long maxVolumes = 0)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        CreatedVolume(id);
        if (nodeId != thisNode)
        {
            throw new NotFoundException($"node_id {nodeId} is not a node of this driver (its volumes live on {thisNode})");
        }
        await journal.AddControllerPublicationAsync(id.ToString(), nodeId, readOnly, maxVolumes).ConfigureAwait(false);
    }

    /// <summary>Unpublishes a volume from one node, or from all when <paramref name="nodeId"/> is empty. Unknown: success.</summary>
    public async Task UnpublishVolumeAsync(ObjectId id, string? nodeId)
    {
        using var _ = journal.Locks.Acquire(id.ToString());
        await journal.RemoveControllerPublicationsAsync(id.ToString(), nodeId).ConfigureAwait(false);
    }
}
