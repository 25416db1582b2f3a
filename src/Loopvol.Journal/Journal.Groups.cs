using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Journal;

/// <summary>Volume-group mappings: group UUID → {volume ID → snapshot ID}.</summary>
public sealed partial class Journal
{
    /// <summary>
    /// Adds or replaces mappings of a group (snapshot ID '' for a plain volume group), in one transaction.
    /// Repeated: no change. Throws <see cref="NotFoundException"/> when the group has no record.
    /// </summary>
    public Task AddMembersAsync(ObjectId group, IReadOnlyDictionary<string, string> volumeToSnapshot) => WriteAsync("add-members", db =>
    {
        ArgumentNullException.ThrowIfNull(volumeToSnapshot);
        var uuid = group.Uuid.ToString("D");
        if (db.Scalar("SELECT 1 FROM records WHERE uuid = $uuid AND kind = 'group'", ("$uuid", uuid)) is null)
        {
            throw new NotFoundException($"{group} does not exist");
        }
        foreach (var (volume, snapshot) in volumeToSnapshot)
        {
            db.Execute("INSERT OR REPLACE INTO group_members (group_uuid, volume_id, snapshot_id) VALUES ($g, $v, $s)",
                ("$g", uuid), ("$v", volume), ("$s", snapshot));
            Fault("add-members.after-member");
        }
        return 0;
    });

    /// <summary>Removes mappings of a group; volumes not mapped are ignored. Repeated: no change.</summary>
    public Task RemoveMembersAsync(ObjectId group, IEnumerable<string> volumeIds) => WriteAsync("remove-members", db =>
    {
        ArgumentNullException.ThrowIfNull(volumeIds);
        foreach (var volume in volumeIds)
        {
            db.Execute("DELETE FROM group_members WHERE group_uuid = $g AND volume_id = $v",
                ("$g", group.Uuid.ToString("D")), ("$v", volume));
        }
        return 0;
    });

    /// <summary>A group's mappings, read in one query; empty for an unknown group.</summary>
    public IReadOnlyDictionary<string, string> Members(ObjectId group) => Read(db =>
        db.Query("SELECT volume_id, snapshot_id FROM group_members WHERE group_uuid = $g ORDER BY volume_id",
                r => (r.GetString(0), r.GetString(1)), ("$g", group.Uuid.ToString("D")))
            .ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal));
}
