using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Journal.Maintenance;

/// <summary>
/// <c>journal check</c> and <c>journal gc</c>: the journal compared with the backend objects. Reservations younger
/// than the grace period, and deletes that changed state within it, are left alone, because a driver may be
/// working on them right now. The records and the backend objects cannot be read at one instant while a driver
/// serves, so every finding is confirmed against a fresh read of its record and its object before it is reported:
/// an object created or deleted meanwhile makes no finding.
/// </summary>
public static class JournalAudit
{
    public static IReadOnlyList<Finding> Check(Journal journal, IBackendInventory inventory, DateTimeOffset now,
        TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(inventory);
        var findings = new List<Finding>(journal.Verify());
        // Records first, then the pool: a record read here existed before the listing, so its object (made before
        // the record is created, removed after the record is marked deleting) is either listed or truly missing.
        var records = journal.All();
        var present = inventory.BackendNames().ToHashSet(StringComparer.Ordinal);
        foreach (var record in records.Where(r => r.Id.Kind != ObjectKind.Group))
        {
            if (Candidate(record, present.Contains(record.BackendName), now, grace) is { } finding &&
                Confirmed(journal, inventory, record, finding))
            {
                findings.Add(finding);
            }
        }
        var known = records.Select(r => r.BackendName).ToHashSet(StringComparer.Ordinal);
        foreach (var name in present.Where(name => !known.Contains(name)).Order(StringComparer.Ordinal))
        {
            // Not in the records read before the listing: it may have been made since. Orphan only if still so.
            if (ParseAny(name) is { } id && journal.Get(id) is null && inventory.Exists(name))
            {
                findings.Add(Orphan(inventory, name));
            }
        }
        return findings;
    }

    /// <summary>
    /// Repairs what <see cref="Check"/> marks repairable when <paramref name="apply"/> is true; otherwise only says
    /// what it would do. Returns the findings acted on (or that would be). Repeated: the second run finds nothing
    /// left to repair. Deleting anything is only safe with no driver serving the pool (the caller holds its lock).
    /// </summary>
    public static async Task<IReadOnlyList<Finding>> GcAsync(Journal journal, IBackendInventory inventory, DateTimeOffset now,
        TimeSpan grace, bool apply)
    {
        var repairable = Check(journal, inventory, now, grace).Where(f => f.Repairable).ToList();
        if (!apply)
        {
            return repairable;
        }
        foreach (var finding in repairable)
        {
            if (finding.Kind == FindingKind.OrphanBackend)
            {
                inventory.Delete(finding.Subject);
                continue;
            }
            var id = ParseAny(finding.Subject) ?? throw new FormatException($"'{finding.Subject}' is not an object ID");
            if (finding.Kind == FindingKind.FaultyRecord)
            {
                inventory.Delete(id.ToString());
            }
            await journal.RemoveAsync(id).ConfigureAwait(false);
        }
        return repairable;
    }

    private static Finding? Candidate(Reservation record, bool exists, DateTimeOffset now, TimeSpan grace)
    {
        var subject = record.Id.ToString();
        return record.State switch
        {
            ReservationState.Reserved when !exists && now - record.CreatedAt > grace => new Finding(
                FindingKind.StaleReservation, subject,
                $"'{record.RequestName}' reserved at {record.CreatedAt:u}; no backend object; gc undoes it", true),
            ReservationState.Faulty => new Finding(FindingKind.FaultyRecord, subject,
                $"creation of '{record.RequestName}' failed half way; gc removes the record" +
                (exists ? " and its backend object" : ""), true),
            // An empty volume's image is renamed into place just after its record is created, and may be lost
            // by a crash before it reached the disk: the driver makes it again at its next start.
            ReservationState.Created when !exists && !record.ImageDurable && now - record.UpdatedAt < grace => null,
            ReservationState.Created when !exists && !record.ImageDurable => new Finding(FindingKind.MissingBackend,
                subject, $"created empty for '{record.RequestName}', and its image never reached the disk; the " +
                         "driver makes it again at its next start"),
            ReservationState.Created when !exists => new Finding(FindingKind.MissingBackend, subject,
                $"created for '{record.RequestName}' but its backend object is gone; needs an operator"),
            ReservationState.Deleting when !exists && now - record.UpdatedAt >= grace => new Finding(
                FindingKind.MissingBackend, subject, "deleting and its backend object is gone; gc finishes the delete", true),
            _ => null,
        };
    }

    /// <summary>True when a fresh read still shows what the finding says: the record in the same state, the object as it was.</summary>
    private static bool Confirmed(Journal journal, IBackendInventory inventory, Reservation record, Finding finding)
    {
        if (journal.Get(record.Id) is not { } now || now.State != record.State)
        {
            return false;
        }
        return finding.Kind == FindingKind.FaultyRecord || !inventory.Exists(record.BackendName);
    }

    /// <summary>
    /// An object no record names. If it carries its own record it is data whose journal record was lost (a journal
    /// restored from an older backup, or replaced): never deleted by gc, brought back by <c>journal rebuild</c>.
    /// </summary>
    private static Finding Orphan(IBackendInventory inventory, string name)
    {
        PortableRecord? carried;
        try
        {
            carried = inventory.RecordOf(name);
        }
        catch (FormatException e)
        {
            return new Finding(FindingKind.OrphanBackend, name,
                $"no record names it, and the record it carries cannot be read ({e.Message}); needs an operator");
        }
        if (carried is null)
        {
            return new Finding(FindingKind.OrphanBackend, name, "no record names it; gc deletes it", true);
        }
        var group = carried.Group is { } g ? $", member of group snapshot {g.Id} ('{g.RequestName}')" : "";
        return new Finding(FindingKind.OrphanBackend, name,
            $"no record names it, but it carries its own: '{carried.RequestName}', made {carried.CreatedAt:u}{group}; " +
            "'loopvol journal rebuild' recovers it (gc never deletes it)");
    }

    private static ObjectId? ParseAny(string text) =>
        Enum.GetValues<ObjectKind>().Select(k => ObjectId.TryParse(text, k, out var id) ? id : null)
            .FirstOrDefault(id => id is not null);
}
