using Loopvol.Core.Errors;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using SQLitePCL;

namespace Loopvol.Journal.Internal;

/// <summary>
/// Starting a write while another process holds the journal's write lock (an operator command, a backup): BEGIN
/// IMMEDIATE answers SQLITE_BUSY (or SQLITE_LOCKED) at once, and is tried again from 10 ms, doubling up to 250 ms
/// apart, until about <see cref="JournalOptions.BusyTimeout"/> has passed. Only the BEGIN is retried: nothing has
/// happened yet when it fails, while a transaction's body runs once, under the lock it got. Any other error passes
/// straight through; after the last attempt the write fails with a <see cref="BusyException"/> (nothing was
/// written, so the caller may simply try again).
/// </summary>
internal sealed partial class SqliteBusyRetry
{
    private const int Busy = 5, Locked = 6;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);
    private static readonly ResiliencePropertyKey<string> OperationKey = new("loopvol.journal.operation");
    private readonly ResiliencePipeline _pipeline;
    private readonly string _path;
    private readonly TimeSpan _budget;

    public SqliteBusyRetry(string path, TimeSpan budget, ILogger logger)
    {
        _path = path;
        _budget = budget;
        Retries = RetriesWithin(budget);
        _pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<SqliteException>(e => e.SqliteErrorCode is Busy or Locked),
            MaxRetryAttempts = Retries,
            Delay = FirstDelay,
            MaxDelay = MaxDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            OnRetry = args =>
            {
                WriteBusy(logger, path, args.Context.Properties.GetValue(OperationKey, "?"), args.AttemptNumber + 1,
                    Retries, args.RetryDelay.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }

    /// <summary>How many times a BEGIN is tried again before its SQLITE_BUSY is the answer.</summary>
    public int Retries { get; }

    /// <summary>Runs BEGIN IMMEDIATE on <paramref name="connection"/>, trying again while the file is locked.</summary>
    public void BeginImmediate(SqliteConnection connection, string operation)
    {
        var context = ResilienceContextPool.Shared.Get();
        context.Properties.Set(OperationKey, operation);
        try
        {
            _pipeline.Execute(static (_, c) => Exec(c, "BEGIN IMMEDIATE"), context, connection);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is Busy or Locked)
        {
            // Nothing was written: the same request can simply be made again (ABORTED, which CSI clients retry).
            throw new BusyException($"the journal {_path} stayed locked by another process (an operator command or a " +
                                    $"backup) for {_budget.TotalSeconds:F0} s; nothing was written, try again");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// One statement straight through SQLite, not through a command: a command would itself poll a busy file
    /// every 150 ms until the connection's timeout, hidden from this retry and its log.
    /// </summary>
    public static void Exec(SqliteConnection connection, string sql) =>
        SqliteException.ThrowExceptionForRC(raw.sqlite3_exec(connection.Handle, sql), connection.Handle);

    /// <summary>Whether <paramref name="connection"/> is inside a transaction (SQLite may have ended one itself on an error).</summary>
    public static bool InTransaction(SqliteConnection connection) => raw.sqlite3_get_autocommit(connection.Handle) == 0;

    /// <summary>The retries whose delays (10, 20, 40 … up to 250 ms) add up to at least <paramref name="budget"/>.</summary>
    internal static int RetriesWithin(TimeSpan budget)
    {
        var retries = 0;
        for (TimeSpan total = TimeSpan.Zero, delay = FirstDelay; total < budget; retries++)
        {
            total += delay;
            delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
        }
        return Math.Max(retries, 1);
    }

    [LoggerMessage(3004, LogLevel.Warning,
        "journal {Path} is locked by another process; write '{Operation}' tries again (retry {Attempt} of {Max}, after {DelayMs:F0} ms)")]
    private static partial void WriteBusy(ILogger logger, string path, string operation, int attempt, int max, double delayMs);
}
