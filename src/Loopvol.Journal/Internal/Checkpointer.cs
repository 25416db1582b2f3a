using Microsoft.Data.Sqlite;

namespace Loopvol.Journal.Internal;

/// <summary>
/// Copies the write-ahead log back into the database file on its own connection, off the call path: when the
/// journal has been idle for <see cref="JournalOptions.CheckpointIdle"/>, or at once when the log has grown past
/// <see cref="JournalOptions.CheckpointMaxWalBytes"/>. (A checkpoint's writes to the database file would otherwise
/// share the file system's journal commits with the calls' log syncs and slow them down.) A PASSIVE checkpoint
/// never blocks a writer; on dispose a last TRUNCATE checkpoint leaves the log empty.
/// </summary>
internal sealed class Checkpointer : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private readonly SqliteConnection _connection;
    private readonly string _walPath;
    private readonly JournalOptions _options;
    private readonly Func<long> _lastWriteTick;
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private long _checkpointedTick;
    private bool _disposed;

    public Checkpointer(string connectionString, string databasePath, JournalOptions options, Func<long> lastWriteTick)
    {
        _options = options;
        _lastWriteTick = lastWriteTick;
        _walPath = databasePath + "-wal";
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _timer = new Timer(_ => OnTick(), null, Tick, Tick);
    }

    /// <summary>How many checkpoints ran; for tests and benchmarks.</summary>
    public int Count { get; private set; }

    public void Dispose()
    {
        _timer.Dispose();
        Run("TRUNCATE");
        lock (_lock)
        {
            _disposed = true;
            _connection.Dispose();
        }
    }

    private void OnTick()
    {
        var lastWrite = _lastWriteTick();
        if (lastWrite == _checkpointedTick)
        {
            return; // Nothing written since the last checkpoint.
        }
        var idle = Environment.TickCount64 - lastWrite >= _options.CheckpointIdle.TotalMilliseconds;
        if (idle || WalBytes() > _options.CheckpointMaxWalBytes)
        {
            Run("PASSIVE");
            _checkpointedTick = lastWrite;
        }
    }

    /// <summary>Size of the write-ahead log file now: 0 when there is none.</summary>
    public long WalBytes()
    {
        try
        {
            return new FileInfo(_walPath).Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private void Run(string mode)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                new Db(_connection, null).Execute($"PRAGMA wal_checkpoint({mode})");
                Core.Diagnostics.DriverMeters.Checkpointed(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                Count++;
            }
            catch (SqliteException e)
            {
                Log.CheckpointFailed(_options.Logger, mode, e.Message);
            }
        }
    }
}
