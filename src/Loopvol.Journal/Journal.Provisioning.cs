using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Journal;

/// <summary>How each volume holds its space (<see cref="Provisioning"/>); every volume starts thin.</summary>
public sealed partial class Journal
{
    /// <summary>The provisioning of volume <paramref name="id"/>; null for an unknown volume.</summary>
    public Provisioning? ProvisioningOf(ObjectId id) => Read(db =>
        db.Query("SELECT provisioning FROM records WHERE uuid = $uuid AND kind = 'volume'", r => r.GetString(0),
            ("$uuid", id.Uuid.ToString("D"))).SingleOrDefault() is { } text
            ? Internal.Columns.Provisioning(text)
            : (Provisioning?)null);

    /// <summary>Records the provisioning of volume <paramref name="id"/>. Repeated: no change. Unknown: no change.</summary>
    public Task SetProvisioningAsync(ObjectId id, Provisioning provisioning) => WriteAsync("set-provisioning", db =>
        db.Execute("UPDATE records SET provisioning = $p WHERE uuid = $uuid AND kind = 'volume' AND provisioning <> $p",
            ("$uuid", id.Uuid.ToString("D")), ("$p", Internal.Columns.Text(provisioning))));

    /// <summary>The part of <see cref="ProvisionedBytes()"/> that thick volumes reserve on the pool's file system.</summary>
    public long ThickBytes() => ProvisionedBytes([], []).Thick;

    /// <summary>Created volumes whose released reservation waits for their detach (<see cref="Provisioning.ThinPendingRelease"/>).</summary>
    public IReadOnlyList<ObjectId> PendingReleases() => Read(db =>
        db.Query("SELECT uuid FROM records WHERE kind = 'volume' AND state = 'created' AND provisioning = 'thin-pending-release'",
            r => new ObjectId(ObjectKind.Volume, Guid.Parse(r.GetString(0)))));
}
