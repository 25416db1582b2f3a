using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Loopvol.Journal.Internal;

/// <summary>
/// Connections for reads, beside the writer's: in WAL mode a reader sees the last commit and never waits for the
/// writer, nor the writer for it. Each read runs in its own read transaction (one consistent view of the journal)
/// on a connection taken from here, with its own prepared statements; up to <see cref="MaxIdle"/> idle ones are
/// kept for the next read, more are opened while more reads run at once.
/// </summary>
internal sealed class ReadConnections(string connectionString) : IDisposable
{
    private const int MaxIdle = 4;
    private const int CacheKiB = 8 * 1024;
    private readonly ConcurrentBag<Reader> _idle = [];
    private bool _disposed;

    public T Run<T>(Func<Db, T> body)
    {
        var reader = Rent();
        try
        {
            SqliteBusyRetry.Exec(reader.Connection, "BEGIN");
            try
            {
                return body(new Db(reader.Connection, null, reader.Statements));
            }
            finally
            {
                SqliteBusyRetry.Exec(reader.Connection, "COMMIT");
            }
        }
        finally
        {
            Return(reader);
        }
    }

    /// <summary>Runs <paramref name="action"/> with a connection of its own (a backup), outside any transaction.</summary>
    public void WithConnection(Action<SqliteConnection> action)
    {
        var reader = Rent();
        try
        {
            action(reader.Connection);
        }
        finally
        {
            Return(reader);
        }
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        while (_idle.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private Reader Rent()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), nameof(Journal));
        return _idle.TryTake(out var reader) ? reader : Reader.Open(connectionString);
    }

    private void Return(Reader reader)
    {
        if (Volatile.Read(ref _disposed) || _idle.Count >= MaxIdle)
        {
            reader.Dispose();
            return;
        }
        _idle.Add(reader);
    }

    private sealed class Reader : IDisposable
    {
        private Reader(SqliteConnection connection) => Connection = connection;

        public SqliteConnection Connection { get; }

        public Dictionary<string, SqliteCommand> Statements { get; } = new(StringComparer.Ordinal);

        public static Reader Open(string connectionString)
        {
            var connection = new SqliteConnection(connectionString);
            try
            {
                connection.Open();
                SqliteBusyRetry.Exec(connection, $"PRAGMA query_only = ON; PRAGMA cache_size = -{CacheKiB};");
                return new Reader(connection);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            foreach (var statement in Statements.Values)
            {
                statement.Dispose();
            }
            Connection.Dispose();
        }
    }
}
