using Loopvol.Core.Ids;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;
using Microsoft.Data.Sqlite;

namespace Loopvol.Journal;

/// <summary>Filling a new journal with records made again from the pool, and telling an empty journal file from a used one.</summary>
public sealed partial class Journal
{
    /// <summary>
    /// Writes <paramref name="records"/> into this journal, which must hold no record: each with its ID, request
    /// name, state, creation time, arguments and size, its directory entry (a faulty record holds none), and a
    /// group's members, in one transaction, in the order given (so listings keep creation order). A journal that
    /// already holds records is refused with <see cref="JournalException"/>; not repeatable.
    /// </summary>
    public Task ImportAsync(IReadOnlyList<ImportedRecord> records) => WriteAsync("import", db =>
    {
        ArgumentNullException.ThrowIfNull(records);
        if (Convert.ToInt64(db.Scalar("SELECT count(*) FROM records"), System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            throw new JournalException($"journal {Path} already holds records; records are imported only into a new one");
        }
        foreach (var record in records)
        {
            InsertRecord(db, record.Id, record.RequestName, record.State, Columns.Millis(record.CreatedAt),
                record.Arguments, record.SizeBytes);
            if (record.State != ReservationState.Faulty)
            {
                db.Execute("INSERT INTO directory (kind, name, uuid) VALUES ($kind, $name, $uuid)",
                    ("$kind", Columns.Text(record.Id.Kind)), ("$name", record.RequestName),
                    ("$uuid", record.Id.Uuid.ToString("D")));
            }
            if (record.Kubernetes.Count > 0)
            {
                db.Execute("INSERT INTO kubernetes_names (uuid, names) VALUES ($uuid, $names)",
                    ("$uuid", record.Id.Uuid.ToString("D")), ("$names", Schema.KubernetesNamesMigration.Serialize(record.Kubernetes)));
            }
        }
        foreach (var group in records.Where(r => r.Id.Kind == ObjectKind.Group && r.Members is not null))
        {
            foreach (var (volume, snapshot) in group.Members!)
            {
                db.Execute("INSERT INTO group_members (group_uuid, volume_id, snapshot_id) VALUES ($g, $v, $s)",
                    ("$g", group.Id.Uuid.ToString("D")), ("$v", volume), ("$s", snapshot));
            }
        }
        return 0;
    });

    /// <summary>
    /// What the journal file at <paramref name="path"/> holds, read without writing anything. A file SQLite
    /// cannot read, or a write-ahead log left without its journal, is <see cref="JournalException"/>: such a file
    /// is damaged, not empty.
    /// </summary>
    public static JournalContents Probe(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        var wal = new FileInfo(path + "-wal");
        if (!File.Exists(path))
        {
            return wal.Exists && wal.Length > 0
                ? throw new JournalException($"journal {path} is missing but its write-ahead log {wal.FullName} is there")
                : JournalContents.Missing;
        }
        if (new FileInfo(path).Length == 0 && !(wal.Exists && wal.Length > 0))
        {
            return JournalContents.Empty;
        }
        var source = wal.Exists ? path : new Uri(path).AbsoluteUri + "?immutable=1";
        using var connection = new SqliteConnection(ConnectionString(source, SqliteOpenMode.ReadOnly, new JournalOptions()));
        try
        {
            connection.Open();
            var db = new Db(connection, null);
            if (db.Scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'") is null)
            {
                return JournalContents.Empty;
            }
            return db.Scalar("SELECT 1 FROM records LIMIT 1") is null ? JournalContents.Empty : JournalContents.Records;
        }
        catch (SqliteException e)
        {
            throw new JournalException($"journal {path} cannot be read: {e.Message}", e);
        }
    }
}
