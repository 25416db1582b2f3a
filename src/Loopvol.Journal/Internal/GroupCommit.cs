using Microsoft.Data.Sqlite;

namespace Loopvol.Journal.Internal;

/// <summary>
/// The journal's one writer: writes from concurrent calls queue here and a dedicated thread commits whatever has
/// queued in one transaction, each write in its own savepoint, so one write that fails is undone alone and the
/// others still commit. The commit syncs the log (one fsync for the whole batch) when any write in it must be
/// durable; a batch of only <see cref="Durability.Deferred"/> writes commits without a sync and becomes durable with
/// the next synced commit or checkpoint (the log is written in order, so a sync covers everything before it). Each
/// caller's task completes when its own write has committed (and, if it asked, is durable).
/// </summary>
internal sealed class GroupCommit : IDisposable
{
    /// <summary>Most writes one transaction takes: bounds how long the first of them waits for the commit.</summary>
    public const int MaxBatch = 256;

    private readonly object _gate = new();
    private readonly Queue<PendingWrite> _queue = new();
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _statements;
    private readonly SqliteBusyRetry _busy;
    private readonly Action<string> _fault;
    private readonly Action<BatchCommitted> _committed;
    private readonly Thread _thread;
    private bool _stopping;
    private bool? _synchronousFull;

    public GroupCommit(SqliteConnection connection, Dictionary<string, SqliteCommand> statements, SqliteBusyRetry busy,
        Action<string> fault, Action<BatchCommitted> committed)
    {
        _connection = connection;
        _statements = statements;
        _busy = busy;
        _fault = fault;
        _committed = committed;
        _thread = new Thread(Run) { IsBackground = true, Name = "loopvol-journal-writer" };
        _thread.Start();
    }

    /// <summary>Whether the calling thread is the writer (a write body that wrote again would wait for itself).</summary>
    public bool OnWriterThread => Environment.CurrentManagedThreadId == _thread.ManagedThreadId;

    /// <summary>Queues <paramref name="body"/>; the task completes when it has committed, or fails with its exception.</summary>
    public Task<T> Enqueue<T>(string operation, Durability durability, Func<Db, T> body)
    {
        var write = new PendingWrite<T>(operation, durability, body);
        lock (_gate)
        {
            if (_stopping)
            {
                throw new ObjectDisposedException(nameof(Journal), "the journal is closed");
            }
            _queue.Enqueue(write);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
        return write.Task;
    }

    /// <summary>Commits what is queued, then stops the writer.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        if (!OnWriterThread)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (Take(batch))
        {
            Commit(batch);
            batch.Clear();
        }
    }

    /// <summary>Waits for writes and takes up to <see cref="MaxBatch"/> of them; false once stopped and drained.</summary>
    private bool Take(List<PendingWrite> batch)
    {
        lock (_gate)
        {
            while (_queue.Count == 0)
            {
                if (_stopping)
                {
                    return false;
                }
                Monitor.Wait(_gate);
            }
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var write))
            {
                batch.Add(write);
            }
            return true;
        }
    }

    private void Commit(List<PendingWrite> batch)
    {
        var durable = batch.Exists(w => w.Durability == Durability.Durable);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            SetSynchronous(durable);
            _busy.BeginImmediate(_connection, batch[0].Operation);
        }
        catch (Exception e)
        {
            batch.ForEach(w => w.Fail(e));
            return;
        }
        var done = new List<PendingWrite>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (!RunInSavepoint(batch[i]))
            {
                // SQLite ended the whole transaction (an I/O error, a full disk): the writes before this one were
                // undone with it and, with those after it, are tried again in the next batch; this one has its error.
                Requeue([.. done, .. batch.Skip(i + 1)]);
                return;
            }
            if (batch[i].Succeeded)
            {
                done.Add(batch[i]);
            }
        }
        try
        {
            SqliteBusyRetry.Exec(_connection, "COMMIT");
        }
        catch (Exception e)
        {
            if (SqliteBusyRetry.InTransaction(_connection))
            {
                SqliteBusyRetry.Exec(_connection, "ROLLBACK");
            }
            done.ForEach(w => w.Fail(e));
            return;
        }
        _committed(new BatchCommitted(done.Count, durable, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
        foreach (var write in done)
        {
            try
            {
                _fault($"{write.Operation}.after-commit");
                write.Complete();
            }
            catch (Exception e)
            {
                write.Fail(e);
            }
        }
    }

    /// <summary>
    /// Runs one write in a savepoint; its failure rolls back to the savepoint and fails it alone. False when SQLite
    /// ended the transaction itself.
    /// </summary>
    private bool RunInSavepoint(PendingWrite write)
    {
        SqliteBusyRetry.Exec(_connection, "SAVEPOINT write");
        try
        {
            write.Run(new Db(_connection, null, _statements));
            _fault($"{write.Operation}.before-commit");
            SqliteBusyRetry.Exec(_connection, "RELEASE write");
            return true;
        }
        catch (Exception e)
        {
            write.Fail(e);
            if (!SqliteBusyRetry.InTransaction(_connection))
            {
                return false;
            }
            SqliteBusyRetry.Exec(_connection, "ROLLBACK TO write");
            SqliteBusyRetry.Exec(_connection, "RELEASE write");
            return true;
        }
    }

    private void Requeue(List<PendingWrite> writes)
    {
        lock (_gate)
        {
            var rest = _queue.ToList();
            _queue.Clear();
            foreach (var write in writes.Concat(rest))
            {
                write.Reset();
                _queue.Enqueue(write);
            }
        }
    }

    /// <summary>FULL syncs the log at commit; NORMAL leaves the sync to the next FULL commit or checkpoint.</summary>
    private void SetSynchronous(bool full)
    {
        if (_synchronousFull != full)
        {
            SqliteBusyRetry.Exec(_connection, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
            _synchronousFull = full;
        }
    }

    private abstract class PendingWrite(string operation, Durability durability)
    {
        public string Operation => operation;

        public Durability Durability => durability;

        public bool Succeeded { get; protected set; }

        public abstract void Run(Db db);

        public abstract void Complete();

        public abstract void Fail(Exception e);

        public void Reset() => Succeeded = false;
    }

    private sealed class PendingWrite<T>(string operation, Durability durability, Func<Db, T> body)
        : PendingWrite(operation, durability)
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _done.Task;

        public override void Run(Db db)
        {
            _result = body(db);
            Succeeded = true;
        }

        public override void Complete() => _done.TrySetResult(_result!);

        public override void Fail(Exception e)
        {
            Succeeded = false;
            _done.TrySetException(e);
        }
    }
}

/// <summary>One committed transaction: how many writes it held, whether it synced the log, and how long it took.</summary>
internal readonly record struct BatchCommitted(int Writes, bool Synced, TimeSpan Took);
