using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;
using Microsoft.Data.Sqlite;

namespace Loopvol.Bench;

/// <summary>
/// Reserve+create throughput and latency of the journal as it grows: for each size, a fresh journal file is filled
/// with that many created volumes, then timed through the calls CreateVolume makes (check, reserve, mark created),
/// one at a time, on the real file with its real durability settings.
/// </summary>
internal static class JournalBenchmark
{
    public static Command Command()
    {
        var sizes = new Option<string>("--sizes")
        {
            Description = "Existing records before each run, comma separated",
            DefaultValueFactory = _ => "1000,100000,1000000",
        };
        var ops = new Option<int>("--ops") { Description = "Timed reserve+create calls per size", DefaultValueFactory = _ => 2000 };
        var dir = new Option<string>("--dir") { Description = "Where the journal files go", DefaultValueFactory = _ => Path.GetTempPath() };
        var checkpoint = new Option<int>("--max-wal-mib")
        {
            Description = "Checkpoint during a burst once the write-ahead log passes this size",
            DefaultValueFactory = _ => (int)(new Journal.JournalOptions().CheckpointMaxWalBytes >> 20),
        };
        var command = new Command("journal", "Reservations per second and latency at growing journal sizes")
        {
            sizes, ops, dir, checkpoint,
        };
        command.SetAction(async r =>
        {
            var rows = new List<Row>();
            foreach (var n in r.GetValue(sizes)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
            {
                rows.Add(await RunAsync(n, r.GetValue(ops), r.GetValue(dir)!,
                    new Journal.JournalOptions { CheckpointMaxWalBytes = (long)r.GetValue(checkpoint) << 20 }));
            }
            Console.WriteLine(Table(rows));
            return 0;
        });
        return command;
    }

    internal static async Task<Row> RunAsync(int existing, int operations, string parent, Journal.JournalOptions options)
    {
        var dir = Path.Combine(parent, $"loopvol-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "journal.db");
            Journal.Journal.Open(path).Dispose();
            var fill = Stopwatch.StartNew();
            Prefill(path, existing);
            fill.Stop();
            using var journal = Journal.Journal.Open(path, options);
            var args = new DefiningArguments
            {
                RequiredBytes = 1L << 30,
                Parameters = new SortedDictionary<string, string> { ["fsType"] = "ext4" },
            };
            for (var i = 0; i < 200; i++) // Warm-up, untimed: JIT and the page cache.
            {
                var warm = await journal.ReserveAsync(ObjectKind.Volume, $"warm-{i}", args);
                await journal.MarkCreatedAsync(warm.Id, 1L << 30);
            }
            var latencies = new Latencies(operations);
            var total = Stopwatch.StartNew();
            for (var i = 0; i < operations; i++)
            {
                var name = $"bench-{i}";
                var start = Stopwatch.GetTimestamp();
                if (await journal.CheckAsync(ObjectKind.Volume, name, args, _ => true) is CheckResult.Free)
                {
                    var reservation = await journal.ReserveAsync(ObjectKind.Volume, name, args);
                    await journal.MarkCreatedAsync(reservation.Id, 1L << 30);
                }
                latencies.Add(Stopwatch.GetElapsedTime(start));
            }
            total.Stop();
            return new Row(existing, operations, operations / total.Elapsed.TotalSeconds, latencies.Percentile(50),
                latencies.Percentile(99), latencies.Percentile(100), fill.Elapsed, journal.Checkpoints);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Writes <paramref name="count"/> created volumes straight into the schema, in one transaction.</summary>
    private static void Prefill(string path, int count)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var record = connection.CreateCommand();
        record.Transaction = transaction;
        record.CommandText =
            "INSERT INTO records (uuid, kind, request_name, backend_name, state, created_at, updated_at, required_bytes, " +
            "arguments, size_bytes) VALUES ($u, 'volume', $n, $b, 'created', 0, 0, 1073741824, $a, 1073741824)";
        var (u, n, b) = (record.Parameters.Add("$u", SqliteType.Text), record.Parameters.Add("$n", SqliteType.Text),
            record.Parameters.Add("$b", SqliteType.Text));
        record.Parameters.AddWithValue("$a", DefiningArgumentsJson.Serialize(new DefiningArguments
        {
            RequiredBytes = 1L << 30,
            Parameters = new SortedDictionary<string, string> { ["fsType"] = "ext4" },
        }));
        using var entry = connection.CreateCommand();
        entry.Transaction = transaction;
        entry.CommandText = "INSERT INTO directory (kind, name, uuid) VALUES ('volume', $n, $u)";
        var (en, eu) = (entry.Parameters.Add("$n", SqliteType.Text), entry.Parameters.Add("$u", SqliteType.Text));
        for (var i = 0; i < count; i++)
        {
            var id = ObjectId.New(ObjectKind.Volume);
            u.Value = eu.Value = id.Uuid.ToString("D");
            n.Value = en.Value = $"pvc-{id.Uuid:N}";
            b.Value = id.ToString();
            record.ExecuteNonQuery();
            entry.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    internal static string Table(IEnumerable<Row> rows)
    {
        var lines = new List<string>
        {
            "| existing records | timed calls | reserve+create/s | p50 ms | p99 ms | max ms | checkpoints | prefill s |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        lines.AddRange(rows.Select(r =>
            $"| {r.Existing:N0} | {r.Operations:N0} | {r.PerSecond:F0} | {Latencies.Ms(r.P50)} | {Latencies.Ms(r.P99)} | " +
            $"{Latencies.Ms(r.Max)} | {r.Checkpoints} | {r.Prefill.TotalSeconds:F1} |"));
        return string.Join('\n', lines);
    }

    internal sealed record Row(int Existing, int Operations, double PerSecond, double P50, double P99, double Max,
        TimeSpan Prefill, int Checkpoints);
}
