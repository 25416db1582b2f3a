using System.Diagnostics;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Journal;

/// <summary>
/// A journal write while another connection (another process's, as an operator command would be) holds the real
/// file's write lock: the write's BEGIN is tried again with backoff until the lock goes, its body runs once, and
/// past the bound the same SQLITE_BUSY error as before surfaces, with nothing written.
/// </summary>
public sealed class SqliteBusyTests
{
    private const string RetryLog = "is locked by another process";

    [Test]
    public async Task Write_WhileAnotherConnectionHoldsTheWriteLock_SucceedsOnceItIsReleased_BodyRunOnce()
    {
        using var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var faults = new CountingFaults();
        using var file = new JournalFile(new JournalOptions
        {
            BusyTimeout = TimeSpan.FromSeconds(5), Logger = loggers.CreateLogger("Loopvol.Journal"), Faults = faults,
        });
        using var holder = Lock(file.Path);
        var release = Task.Run(async () =>
        {
            await Task.Delay(300);
            Exec(holder, "COMMIT");
        });
        var clock = Stopwatch.StartNew();

        var reserved = await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args());

        await release;
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "it waited for the lock");
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1")?.Id, Is.EqualTo(reserved.Id));
        Assert.That(faults.Count("reserve.after-record"), Is.EqualTo(1), "the transaction's body ran once");
        var retries = logs.Lines.Where(l => l.Text.Contains(RetryLog, StringComparison.Ordinal)).ToList();
        Assert.That(retries, Is.Not.Empty);
        Assert.That(retries.All(l => l.Level == LogLevel.Warning && l.Text.Contains("'reserve'", StringComparison.Ordinal)));
    }

    [Test]
    public async Task Write_LockHeldBeyondTheBound_FailsBusy_AndWritesNothing()
    {
        using var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var faults = new CountingFaults();
        using var file = new JournalFile(new JournalOptions
        {
            BusyTimeout = TimeSpan.FromSeconds(1), Logger = loggers.CreateLogger("Loopvol.Journal"), Faults = faults,
        });
        using (var holder = Lock(file.Path))
        {
            var clock = Stopwatch.StartNew();

            var error = Assert.ThrowsAsync<Loopvol.Core.Errors.BusyException>(() =>
                file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args()));

            Assert.That(error!.Message, Does.Contain("stayed locked by another process").And.Contain("nothing was written"));
            Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900)).And.LessThan(TimeSpan.FromSeconds(4)));
            Assert.That(faults.Count("reserve.after-record"), Is.Zero, "the body never ran");
            Assert.That(logs.Lines.Count(l => l.Text.Contains(RetryLog, StringComparison.Ordinal)),
                Is.EqualTo(Loopvol.Journal.Internal.SqliteBusyRetry.RetriesWithin(TimeSpan.FromSeconds(1))));
            Exec(holder, "ROLLBACK");
        }
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.Null, "nothing was written");
        Assert.That((await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args())).RequestName, Is.EqualTo("pvc-1"),
            "the journal writes again once the lock is gone");
    }

    [Test]
    public async Task Write_BodyFails_RollsBack_AndIsNotRetried()
    {
        var faults = new CountingFaults { Throw = "reserve.after-entry" };
        using var file = new JournalFile(new JournalOptions { Faults = faults });

        Assert.ThrowsAsync<InvalidOperationException>(() => file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args()));

        Assert.That(faults.Count("reserve.after-entry"), Is.EqualTo(1));
        Assert.That(file.Journal.Find(ObjectKind.Volume, "pvc-1"), Is.Null, "rolled back");
        faults.Throw = null;
        Assert.That((await file.Journal.ReserveAsync(ObjectKind.Volume, "pvc-1", JournalFile.Args())).RequestName, Is.EqualTo("pvc-1"));
    }

    [TestCase(0, 1)]
    [TestCase(10, 1)]
    [TestCase(75, 4)]
    [TestCase(1000, 8)]
    [TestCase(5000, 24)]
    public void RetriesWithin_AddsDelaysOf10MsDoublingTo250_UntilTheBudget(int budgetMs, int retries) =>
        Assert.That(Loopvol.Journal.Internal.SqliteBusyRetry.RetriesWithin(TimeSpan.FromMilliseconds(budgetMs)), Is.EqualTo(retries));

    /// <summary>A second connection to the file that has taken its write lock (BEGIN IMMEDIATE).</summary>
    private static SqliteConnection Lock(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        Exec(connection, "BEGIN IMMEDIATE");
        return connection;
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class CountingFaults : IFaultInjector
    {
        private readonly List<string> _reached = [];

        public string? Throw { get; set; }

        public int Count(string point)
        {
            lock (_reached)
            {
                return _reached.Count(p => p == point);
            }
        }

        public void Reached(string point)
        {
            lock (_reached)
            {
                _reached.Add(point);
            }
            if (point == Throw)
            {
                throw new InvalidOperationException($"fault at {point}");
            }
        }
    }
}
