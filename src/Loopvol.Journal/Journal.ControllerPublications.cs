using System.Globalization;
using Loopvol.Core.Errors;

namespace Loopvol.Journal;

/// <summary>Which nodes a volume is controller-published to, and whether read-only.</summary>
public sealed partial class Journal
{
    /// <summary>
    /// Records that a volume is published to a node. Repeated with the same read-only flag: no change. Published to
    /// that node with the other flag: <see cref="AlreadyExistsException"/>. Published to another node (volumes
    /// here are single-node): <see cref="PreconditionFailedException"/>. A new publication to a node that already
    /// has <paramref name="maxVolumes"/> volumes published (when above 0): <see cref="ResourceExhaustedException"/>.
    /// </summary>
    public Task AddControllerPublicationAsync(string volumeId, string nodeId, bool readOnly, long maxVolumes = 0) =>
        WriteAsync("add-controller-publication", db =>
        {
            var existing = db.Query("SELECT node_id, read_only FROM controller_publications WHERE volume_id = $v",
                r => (Node: r.GetString(0), ReadOnly: r.GetInt64(1) == 1), ("$v", volumeId));
            foreach (var (node, ro) in existing)
            {
                if (node != nodeId)
                {
                    throw new PreconditionFailedException($"volume {volumeId} is already published to node {node}");
                }
                return ro == readOnly
                    ? 0
                    : throw new AlreadyExistsException(
                        $"volume {volumeId} is already published to node {nodeId} {(ro ? "read-only" : "read-write")}");
            }
            if (maxVolumes > 0)
            {
                var published = Convert.ToInt64(db.Scalar(
                    "SELECT COUNT(DISTINCT volume_id) FROM controller_publications WHERE node_id = $n", ("$n", nodeId)),
                    CultureInfo.InvariantCulture);
                if (published >= maxVolumes)
                {
                    throw new ResourceExhaustedException(
                        $"node_id {nodeId} already has {published} volumes published, the most it takes " +
                        $"(--max-volumes-per-node {maxVolumes})");
                }
            }
            db.Execute("INSERT INTO controller_publications (volume_id, node_id, read_only) VALUES ($v, $n, $r)",
                ("$v", volumeId), ("$n", nodeId), ("$r", readOnly ? 1 : 0));
            return 0;
        });

    /// <summary>Removes a volume's publication to one node, or to every node when <paramref name="nodeId"/> is empty. Repeated: no change.</summary>
    public Task RemoveControllerPublicationsAsync(string volumeId, string? nodeId) => WriteAsync("remove-controller-publication",
        db => db.Execute("DELETE FROM controller_publications WHERE volume_id = $v AND ($n IS NULL OR node_id = $n)",
            ("$v", volumeId), ("$n", string.IsNullOrEmpty(nodeId) ? null : nodeId)));

    /// <summary>The nodes a volume is published to.</summary>
    public IReadOnlyList<string> ControllerPublications(string volumeId) => Read(db =>
        db.Query("SELECT node_id FROM controller_publications WHERE volume_id = $v ORDER BY node_id",
            r => r.GetString(0), ("$v", volumeId)));
}
