using Loopvol.Journal.Maintenance;

namespace Loopvol.Journal;

/// <summary>The journal's own invariants, checked with SQL over the whole file.</summary>
public sealed partial class Journal
{
    /// <summary>
    /// Structural problems: entries without records, live (reserved or created) records without entries,
    /// back-pointers that disagree, names held twice, faulty records still holding a name. A record being deleted
    /// has freed its name, so it holds no entry. An empty list means the directory and the records
    /// agree exactly. Repeated: the same answer; it changes nothing.
    /// </summary>
    public IReadOnlyList<Finding> Verify() => Read(db =>
    {
        var findings = new List<Finding>();
        findings.AddRange(db.Query(
            "SELECT d.kind, d.name, d.uuid FROM directory d LEFT JOIN records r ON r.uuid = d.uuid WHERE r.uuid IS NULL",
            r => new Finding(FindingKind.EntryWithoutRecord, $"{r.GetString(0)} '{r.GetString(1)}'",
                $"points at {r.GetString(2)}, which has no record")));
        findings.AddRange(db.Query(
            "SELECT r.backend_name, r.kind, r.request_name, r.state FROM records r " +
            "LEFT JOIN directory d ON d.uuid = r.uuid WHERE d.uuid IS NULL AND r.state IN ('reserved', 'created')",
            r => new Finding(FindingKind.RecordWithoutEntry, r.GetString(0),
                $"{r.GetString(3)} {r.GetString(1)} for '{r.GetString(2)}' holds no directory entry")));
        findings.AddRange(db.Query(
            "SELECT r.backend_name, d.kind, d.name, r.kind, r.request_name FROM directory d JOIN records r ON r.uuid = d.uuid " +
            "WHERE d.name <> r.request_name OR d.kind <> r.kind",
            r => new Finding(FindingKind.BackPointerMismatch, r.GetString(0),
                $"the directory says {r.GetString(1)} '{r.GetString(2)}', the record says {r.GetString(3)} '{r.GetString(4)}'")));
        findings.AddRange(db.Query(
            "SELECT kind, request_name, count(*) FROM records WHERE state IN ('reserved', 'created') " +
            "GROUP BY kind, request_name " +
            "HAVING count(*) > 1",
            r => new Finding(FindingKind.DuplicateName, $"{r.GetString(0)} '{r.GetString(1)}'",
                $"{r.GetInt64(2)} live records claim this name")));
        findings.AddRange(db.Query(
            "SELECT r.backend_name, d.name FROM records r JOIN directory d ON d.uuid = r.uuid WHERE r.state = 'faulty'",
            r => new Finding(FindingKind.FaultyWithEntry, r.GetString(0), $"faulty but still holds '{r.GetString(1)}'")));
        return findings;
    });

    /// <summary>True when the file answers a query: what the Probe asks of the journal.</summary>
    public bool Ping()
    {
        try
        {
            return Read(db => db.Scalar("SELECT count(*) FROM sqlite_master")) is not null;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }
}
