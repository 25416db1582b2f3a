using System.Globalization;
using Loopvol.Core.Errors;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;

namespace Loopvol.Journal;

/// <summary>
/// The node side (IDEAS.md section 3): per volume its stage state, staging path and loop device, and one row per
/// published target path. Stage states move one step at a time (Init ↔ Attached ↔ Mounted); InUse is Mounted with
/// publications, so the reference count is the number of rows and cannot drift.
/// </summary>
public sealed partial class Journal
{
    /// <summary>The node record of a volume; null when the node knows nothing of it (Init).</summary>
    public NodeVolume? GetNodeVolume(string volumeId) => Read(db => ReadNodeVolume(db, volumeId));

    /// <summary>Volumes staged on this node (attached or mounted), and the target paths volumes are published at.</summary>
    public (long Staged, long Publications) CountNodeVolumes() => Read(db => (
        Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM node_volumes WHERE stage_state <> 'init'"), CultureInfo.InvariantCulture),
        Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM node_publications"), CultureInfo.InvariantCulture)));

    /// <summary>Every volume the node has a record of, for reconciliation at start.</summary>
    public IReadOnlyList<NodeVolume> NodeVolumes() => Read(db =>
        db.Query("SELECT volume_id FROM node_volumes ORDER BY volume_id", r => r.GetString(0))
            .Select(id => ReadNodeVolume(db, id)!).ToList());

    /// <summary>
    /// Moves a volume's stage state to <paramref name="state"/> with its details. Allowed: staying (details
    /// updated), or one step (Init ↔ Attached ↔ Mounted); leaving Mounted needs no publications. Moving to Init
    /// removes the record. Repeated: no change. Anything else is <see cref="PreconditionFailedException"/>.
    /// </summary>
    public Task SetStageAsync(string volumeId, NodeState state, string? stagingPath = null, string? loopDevice = null,
        StageArguments? stageArguments = null) => WriteAsync("set-stage", db =>
    {
        if (state == NodeState.InUse)
        {
            throw new ArgumentOutOfRangeException(nameof(state), "InUse follows from publications");
        }
        var current = ReadNodeVolume(db, volumeId);
        var from = current?.StageState ?? NodeState.Init;
        if (Math.Abs((int)from - (int)state) > 1)
        {
            throw new PreconditionFailedException($"volume {volumeId} is {from}; it cannot move to {state} directly");
        }
        if (from == NodeState.Mounted && state != NodeState.Mounted && current!.Publications.Count > 0)
        {
            throw new PreconditionFailedException(
                $"volume {volumeId} is still published at {current.Publications.Count} target path(s)");
        }
        if (state == NodeState.Init)
        {
            db.Execute("DELETE FROM node_volumes WHERE volume_id = $v", ("$v", volumeId));
            return 0;
        }
        db.Execute(
            """
            INSERT INTO node_volumes (volume_id, staging_path, stage_state, loop_device, stage_arguments, updated_at)
            VALUES ($v, $path, $state, $loop, $args, $now)
            ON CONFLICT (volume_id) DO UPDATE SET staging_path = $path, stage_state = $state, loop_device = $loop,
                stage_arguments = $args, updated_at = $now
            """,
            ("$v", volumeId), ("$path", stagingPath), ("$state", Columns.Text(state)), ("$loop", loopDevice),
            ("$args", stageArguments?.Serialize()), ("$now", Now));
        return 0;
    });

    /// <summary>
    /// Adds a target path to a Mounted volume. Repeated with the same arguments: no change. The same target with
    /// other arguments, or held by another volume: <see cref="AlreadyExistsException"/>. A volume not Mounted:
    /// <see cref="PreconditionFailedException"/>.
    /// </summary>
    public Task AddPublicationAsync(string volumeId, Publication publication) => WriteAsync("add-publication", db =>
    {
        ArgumentNullException.ThrowIfNull(publication);
        var existing = db.Query(
            "SELECT volume_id, read_only, access_type FROM node_publications WHERE target_path = $t",
            r => (Volume: r.GetString(0), Pub: new Publication(publication.TargetPath, r.GetInt64(1) == 1, r.GetString(2))),
            ("$t", publication.TargetPath)).SingleOrDefault();
        if (existing.Volume is not null)
        {
            return existing.Volume == volumeId && existing.Pub == publication
                ? 0
                : throw new AlreadyExistsException(existing.Volume == volumeId
                    ? $"target path {publication.TargetPath} is already published with other arguments"
                    : $"target path {publication.TargetPath} is already used by volume {existing.Volume}");
        }
        var volume = ReadNodeVolume(db, volumeId);
        if (volume?.StageState != NodeState.Mounted)
        {
            throw new PreconditionFailedException(
                $"volume {volumeId} is {volume?.StageState ?? NodeState.Init}, not staged, so it cannot be published");
        }
        db.Execute("INSERT INTO node_publications (volume_id, target_path, read_only, access_type) VALUES ($v, $t, $r, $a)",
            ("$v", volumeId), ("$t", publication.TargetPath), ("$r", publication.ReadOnly ? 1 : 0),
            ("$a", publication.AccessType));
        return 0;
    });

    /// <summary>Removes a target path of a volume. Repeated, or unknown: does nothing and returns false.</summary>
    public Task<bool> RemovePublicationAsync(string volumeId, string targetPath) => WriteAsync("remove-publication", db =>
        db.Execute("DELETE FROM node_publications WHERE volume_id = $v AND target_path = $t",
            ("$v", volumeId), ("$t", targetPath)) > 0);

    private static NodeVolume? ReadNodeVolume(Db db, string volumeId)
    {
        var publications = db.Query(
            "SELECT target_path, read_only, access_type FROM node_publications WHERE volume_id = $v ORDER BY target_path",
            r => new Publication(r.GetString(0), r.GetInt64(1) == 1, r.GetString(2)), ("$v", volumeId));
        return db.Query(
            "SELECT staging_path, stage_state, loop_device, stage_arguments FROM node_volumes WHERE volume_id = $v",
            r => new NodeVolume(volumeId, r.IsDBNull(0) ? null : r.GetString(0), Columns.StageState(r.GetString(1)),
                r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : StageArguments.Parse(r.GetString(3)), publications),
            ("$v", volumeId)).SingleOrDefault();
    }
}
