using Loopvol.Core.Concurrency;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Schema;
using Microsoft.Data.Sqlite;

namespace Loopvol.Journal;

/// <summary>
/// The driver's SQLite journal. Every change is one transaction; every method documents what happens when it is
/// called again, and a repeat never creates a second object. Writes from concurrent calls are committed together by
/// one writer (<see cref="GroupCommit"/>: one transaction and at most one fsync for a batch, each caller released when
/// its own write is committed); reads run on connections of their own (<see cref="ReadConnections"/>) and never
/// wait for a commit.
/// </summary>
public sealed partial class Journal : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _statements = new(StringComparer.Ordinal);
    private const int CacheKiB = 64 * 1024;
    private readonly JournalOptions _options;
    private readonly GroupCommit _writer;
    private readonly ReadConnections _readers;
    private Checkpointer? _checkpointer;
    private long _lastWriteTick;
    private int _disposed;

    private Journal(string path, SqliteConnection connection, JournalOptions options)
    {
        Path = path;
        _connection = connection;
        _options = options;
        var busy = new SqliteBusyRetry(path, options.BusyTimeout, options.Logger);
        _writer = new GroupCommit(connection, _statements, busy, Fault, OnCommitted);
        _readers = new ReadConnections(ConnectionString(path, SqliteOpenMode.ReadWrite, options));
    }

    public string Path { get; }

    /// <summary>Per request name and per object ID: a second operation on a held key is refused as busy.</summary>
    public OperationLocks Locks { get; } = new();

    /// <summary>
    /// Opens (creating if needed) the journal at <paramref name="path"/>. A database of a newer schema, or one that
    /// fails its integrity check, is refused before anything is written to it.
    /// </summary>
    public static Journal Open(string path, JournalOptions? options = null)
    {
        options ??= new JournalOptions();
        path = System.IO.Path.GetFullPath(path);
        if (File.Exists(path))
        {
            Inspect(path);
        }
        var connection = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadWriteCreate, options));
        try
        {
            connection.Open();
            var db = new Db(connection, null);
            // FULL: a commit is on disk before the call that made it returns, power loss included. Checkpoints
            // run in the background (Checkpointer), not inside a commit, so they add no latency to a call.
            db.Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; " +
                       $"PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -{CacheKiB};");
            Migrate(connection);
            Log.Opened(options.Logger, path, Migrations.CurrentVersion);
            var journal = new Journal(path, connection, options);
            journal._checkpointer = new Checkpointer(ConnectionString(path, SqliteOpenMode.ReadWrite, options), path,
                options, () => Volatile.Read(ref journal._lastWriteTick));
            return journal;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Writes a consistent copy of the journal to <paramref name="destination"/> while it is in use.</summary>
    public void Backup(string destination)
    {
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = destination, Pooling = false }
            .ToString());
        target.Open();
        _readers.WithConnection(source => source.BackupDatabase(target));
    }

    /// <summary>Commits the writes still queued, then closes every connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _writer.Dispose();
        _readers.Dispose();
        _checkpointer?.Dispose();
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }
        _statements.Clear();
        _connection.Dispose();
    }

    /// <summary>
    /// Queues <paramref name="body"/> for the writer, which runs it in a savepoint of the next batch's IMMEDIATE
    /// transaction: an exception undoes this write alone and is the task's. Fault points
    /// <c>operation.before-commit</c> and <c>operation.after-commit</c> frame the commit. A file locked by another
    /// process delays the BEGIN (<see cref="SqliteBusyRetry"/>), never a body that already ran. The body runs on the
    /// writer's thread and must not use the journal itself.
    /// </summary>
    internal Task<T> WriteAsync<T>(string operation, Func<Db, T> body, Durability durability = Durability.Durable)
    {
        if (_writer.OnWriterThread)
        {
            throw new InvalidOperationException($"journal write '{operation}' was started from inside another write");
        }
        return _writer.Enqueue(operation, durability, body);
    }

    /// <summary>Runs <paramref name="body"/> in a read transaction of its own: it sees the last commit, and waits for none.</summary>
    internal T Read<T>(Func<Db, T> body) => _readers.Run(body);

    private void OnCommitted(BatchCommitted batch)
    {
        Volatile.Write(ref _lastWriteTick, Environment.TickCount64);
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _writes, batch.Writes);
        Core.Diagnostics.DriverMeters.Committed(batch.Writes, batch.Took.TotalSeconds);
        if (batch.Synced)
        {
            Interlocked.Increment(ref _syncs);
            Core.Diagnostics.DriverMeters.JournalSynced();
        }
    }

    private long _commits, _writes, _syncs;

    /// <summary>Transactions committed, writes they held, and commits that synced the log; for tests and benchmarks.</summary>
    public (long Commits, long Writes, long Syncs) CommitCounts =>
        (Interlocked.Read(ref _commits), Interlocked.Read(ref _writes), Interlocked.Read(ref _syncs));

    /// <summary>How many background checkpoints have run.</summary>
    public int Checkpoints => _checkpointer?.Count ?? 0;

    /// <summary>Size of the write-ahead log file now (0 for a read-only journal, which checkpoints nothing).</summary>
    public long WalBytes => _checkpointer?.WalBytes() ?? 0;

    internal void Fault(string point) => _options.Faults.Reached(point);

    internal long Now => Columns.Millis(_options.Clock.UtcNow);

    /// <summary>
    /// Reads the version and checks integrity without writing: read-only, and, when no write-ahead log is pending,
    /// as an immutable file, so not even the -wal and -shm side files are created.
    /// </summary>
    private static void Inspect(string path)
    {
        var source = File.Exists(path + "-wal") ? path : new Uri(path).AbsoluteUri + "?immutable=1";
        using var connection = new SqliteConnection(
            ConnectionString(source, SqliteOpenMode.ReadOnly, new JournalOptions()));
        try
        {
            connection.Open();
            var db = new Db(connection, null);
            var version = Convert.ToInt32(db.Scalar("PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
            if (version > Migrations.CurrentVersion)
            {
                throw new JournalException(
                    $"journal {path} has schema version {version}, written by a newer loopvol; this one knows " +
                    $"versions up to {Migrations.CurrentVersion}. It was not opened or changed.");
            }
            var integrity = db.Query("PRAGMA integrity_check", r => r.GetString(0));
            if (integrity is not ["ok"])
            {
                throw new JournalException(
                    $"journal {path} failed its integrity check: {string.Join("; ", integrity.Take(5))}. " +
                    "It was left as it is. Restore it from a backup ('loopvol journal backup' makes one), or recover " +
                    "the records from the pool's images with 'loopvol journal rebuild --force' (it keeps this file aside).");
            }
        }
        catch (SqliteException e)
        {
            throw new JournalException($"journal {path} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Brings the schema to <see cref="Migrations.CurrentVersion"/>. A journal already there takes no write lock: an
    /// operator command opening it beside a busy driver would otherwise wait for the driver's writer, and could give
    /// up while commits follow one another.
    /// </summary>
    private static void Migrate(SqliteConnection connection)
    {
        if (UserVersion(new Db(connection, null)) == Migrations.CurrentVersion)
        {
            return;
        }
        using var transaction = connection.BeginTransaction(deferred: false);
        var db = new Db(connection, transaction);
        var version = UserVersion(db);
        for (var next = version + 1; next <= Migrations.CurrentVersion; next++)
        {
            Migrations.Steps[next - 1].Apply(db);
            db.Execute($"PRAGMA user_version = {next}");
        }
        transaction.Commit();
    }

    private static int UserVersion(Db db) =>
        Convert.ToInt32(db.Scalar("PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);

    private static string ConnectionString(string path, SqliteOpenMode mode, JournalOptions options) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(options.BusyTimeout.TotalSeconds),
        }.ToString();
}
