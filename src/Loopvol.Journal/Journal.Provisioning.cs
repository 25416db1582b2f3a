using System.Globalization;
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

    /// <summary>
    /// The part of <see cref="ProvisionedBytes()"/> that thick volumes reserve on the pool's file system, without
    /// the volumes of <paramref name="ids"/> (counted by a caller while their writes are in flight).
    /// </summary>
    public long ThickBytes(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var args = ids.Select((n, i) => ($"$i{i}", (object?)n)).ToArray();
        var text = "SELECT COALESCE(SUM(COALESCE(size_bytes, required_bytes, 0)), 0) FROM records " +
                   "WHERE kind = 'volume' AND state IN ('reserved', 'created') AND provisioning = 'thick'" +
                   (ids.Count > 0 ? $" AND uuid NOT IN ({string.Join(", ", args.Select(a => a.Item1))})" : "");
        return Read(db => Convert.ToInt64(db.Scalar(text, args), CultureInfo.InvariantCulture));
    }

    /// <summary><see cref="ThickBytes(IReadOnlyCollection{string})"/> of every volume.</summary>
    public long ThickBytes() => ThickBytes([]);

    /// <summary>Created volumes whose released reservation waits for their detach (<see cref="Provisioning.ThinPendingRelease"/>).</summary>
    public IReadOnlyList<ObjectId> PendingReleases() => Read(db =>
        db.Query("SELECT uuid FROM records WHERE kind = 'volume' AND state = 'created' AND provisioning = 'thin-pending-release'",
            r => new ObjectId(ObjectKind.Volume, Guid.Parse(r.GetString(0)))));
}
