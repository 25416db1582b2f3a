using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Journal.Maintenance;

/// <summary>
/// <c>journal check</c> and <c>journal gc</c>: the journal compared with the backend objects. Reservations younger
/// than the grace period are left alone, because a driver may be creating their objects right now.
/// </summary>
public static class JournalAudit
{
    public static IReadOnlyList<Finding> Check(Journal journal, IBackendInventory inventory, DateTimeOffset now,
        TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(inventory);
        var findings = new List<Finding>(journal.Verify());
        var records = journal.All();
        var present = inventory.BackendNames().ToHashSet(StringComparer.Ordinal);
        foreach (var record in records.Where(r => r.Id.Kind != ObjectKind.Group))
        {
            var exists = present.Contains(record.BackendName);
            var subject = record.Id.ToString();
            switch (record.State)
            {
                case ReservationState.Reserved when !exists && now - record.CreatedAt > grace:
                    findings.Add(new Finding(FindingKind.StaleReservation, subject,
                        $"'{record.RequestName}' reserved at {record.CreatedAt:u}; no backend object; gc undoes it", true));
                    break;
                case ReservationState.Faulty:
                    findings.Add(new Finding(FindingKind.FaultyRecord, subject,
                        $"creation of '{record.RequestName}' failed half way; gc removes the record" +
                        (exists ? " and its backend object" : ""), true));
                    break;
                case ReservationState.Created when !exists:
                    findings.Add(new Finding(FindingKind.MissingBackend, subject,
                        $"created for '{record.RequestName}' but its backend object is gone; needs an operator"));
                    break;
                case ReservationState.Deleting when !exists:
                    findings.Add(new Finding(FindingKind.MissingBackend, subject,
                        "deleting and its backend object is gone; gc finishes the delete", true));
                    break;
            }
        }
        var known = records.Select(r => r.BackendName).ToHashSet(StringComparer.Ordinal);
        findings.AddRange(present.Where(name => !known.Contains(name)).Order(StringComparer.Ordinal)
            .Select(name => new Finding(FindingKind.OrphanBackend, name, "no record names it; gc deletes it", true)));
        return findings;
    }

    /// <summary>
    /// Repairs what <see cref="Check"/> marks repairable when <paramref name="apply"/> is true; otherwise only says
    /// what it would do. Returns the findings acted on (or that would be). Repeated: the second run finds nothing
    /// left to repair.
    /// </summary>
    public static IReadOnlyList<Finding> Gc(Journal journal, IBackendInventory inventory, DateTimeOffset now,
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
            var id = ParseAny(finding.Subject);
            if (finding.Kind == FindingKind.FaultyRecord)
            {
                inventory.Delete(id.ToString());
            }
            journal.Remove(id);
        }
        return repairable;
    }

    private static ObjectId ParseAny(string text) =>
        Enum.GetValues<ObjectKind>().Select(k => ObjectId.TryParse(text, k, out var id) ? id : null)
            .FirstOrDefault(id => id is not null) ?? throw new FormatException($"'{text}' is not an object ID");
}
