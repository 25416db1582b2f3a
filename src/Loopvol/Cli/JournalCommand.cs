using System.CommandLine;
using Loopvol.Core.Ids;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.Pool;

namespace Loopvol.Cli;

/// <summary>
/// <c>loopvol journal …</c>: operator commands over the journal file. The ones that only read (list, show, check,
/// gc --dry-run, backup) are safe while the driver serves (SQLite lets the two processes share the file). The ones
/// that delete or replace (gc --apply, rebuild) take the pool's lock, so they refuse while a driver serves it.
/// </summary>
internal static class JournalCommand
{
    public const string JournalFile = "journal.db";

    /// <summary>Seconds a reservation may wait for its image before the check counts it as stale.</summary>
    public const int DefaultGraceSeconds = 600;

    public static Command Create(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var journal = new Command("journal", "Inspect, check, repair and back up the journal");
        journal.Subcommands.Add(List(dataDir, poolDir, output));
        journal.Subcommands.Add(Show(dataDir, poolDir, output));
        journal.Subcommands.Add(Check(dataDir, poolDir, output));
        journal.Subcommands.Add(Gc(dataDir, poolDir, output));
        journal.Subcommands.Add(Backup(dataDir, poolDir, output));
        journal.Subcommands.Add(RebuildCommand.Create(dataDir, poolDir, output));
        return journal;
    }

    private static Command List(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var kind = Flags.OneOf("--kind", "Only objects of this kind", "all", ["all", "volume", "snapshot", "group"]);
        var command = new Command("list", "List every record, in creation order") { kind };
        command.SetAction(r => WithJournal(r, dataDir, poolDir, output, j =>
        {
            var records = j.All(r.GetValue(kind) is "all" ? null : Enum.Parse<ObjectKind>(r.GetValue(kind)!, true));
            JournalPrinter.Table(output, j, records);
            return 0;
        }));
        return command;
    }

    private static Command Show(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var what = new Argument<string>("id-or-name") { Description = "An object ID, or the request name that made it" };
        var command = new Command("show", "Show one record, its group members and its node state") { what };
        command.SetAction(r => WithJournal(r, dataDir, poolDir, output, j =>
        {
            var text = r.GetValue(what)!;
            var matches = Enum.GetValues<ObjectKind>()
                .Select(k => ObjectId.TryParse(text, k, out var id) ? j.Get(id.Value) : j.Find(k, text))
                .OfType<Reservation>().ToList();
            if (matches.Count == 0)
            {
                output.WriteLine($"no object has the ID or request name '{text}'");
                return 1;
            }
            matches.ForEach(m => JournalPrinter.Details(output, j, m));
            return 0;
        }));
        return command;
    }

    private static Command Check(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var grace = GraceOption();
        var command = new Command("check",
            "Report stale reservations, faulty records, records without images and images without records " +
            "(exit code 1 when anything is wrong)") { grace };
        command.SetAction(r => WithJournal(r, dataDir, poolDir, output, j =>
        {
            var findings = JournalAudit.Check(j, Inventory(r, dataDir, poolDir), DateTimeOffset.UtcNow,
                TimeSpan.FromSeconds(r.GetValue(grace)));
            JournalPrinter.Findings(output, findings);
            return findings.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    private static Command Gc(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only say what would be repaired" };
        var apply = new Option<bool>("--apply") { Description = "Repair what can be repaired safely" };
        var grace = GraceOption();
        var command = new Command("gc", "Undo stale reservations, remove faulty records and orphan images")
        {
            dryRun, apply, grace,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(dryRun) == r.GetValue(apply))
            {
                r.AddError("journal gc needs exactly one of --dry-run and --apply");
            }
        });
        command.SetAction(r => WithJournal(r, dataDir, poolDir, output, j =>
        {
            using var poolLock = r.GetValue(apply) ? LockPool(r, dataDir, poolDir, output, "journal gc --apply") : null;
            if (r.GetValue(apply) && poolLock is null)
            {
                return 1;
            }
            var inventory = Inventory(r, dataDir, poolDir);
            var now = DateTimeOffset.UtcNow;
            var age = TimeSpan.FromSeconds(r.GetValue(grace));
            var acted = JournalAudit.GcAsync(j, inventory, now, age, r.GetValue(apply)).GetAwaiter().GetResult();
            output.WriteLine(r.GetValue(apply) ? $"repaired {acted.Count}:" : $"would repair {acted.Count}:");
            JournalPrinter.Findings(output, acted);
            var left = JournalAudit.Check(j, inventory, now, age).Where(f => !f.Repairable).ToList();
            if (left.Count > 0)
            {
                output.WriteLine($"needs an operator ({left.Count}):");
                JournalPrinter.Findings(output, left);
            }
            return left.Count == 0 ? 0 : 1;
        }));
        return command;
    }

    private static Command Backup(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var file = new Argument<string>("file") { Description = "Where to write the copy" };
        var command = new Command("backup", "Write a consistent copy of the journal, even while the driver runs") { file };
        command.SetAction(r => WithJournal(r, dataDir, poolDir, output, j =>
        {
            var destination = Path.GetFullPath(r.GetValue(file)!);
            if (File.Exists(destination))
            {
                output.WriteLine($"{destination} exists; choose a new file");
                return 1;
            }
            j.Backup(destination);
            output.WriteLine($"backed up {j.Path} to {destination}");
            return 0;
        }));
        return command;
    }

    private static Option<int> GraceOption() => Flags.Integer("--grace",
        "Seconds a reservation may wait for its image before it counts as stale", DefaultGraceSeconds, 0, int.MaxValue,
        "must be 0 or more seconds");

    private static PoolInventory Inventory(ParseResult r, Option<string> dataDir, Option<string> poolDir) =>
        new(Layout(r, dataDir, poolDir));

    public static PoolLayout Layout(ParseResult r, Option<string> dataDir, Option<string> poolDir) =>
        new(r.GetValue(poolDir) ?? Path.Combine(r.GetValue(dataDir)!, "pool"));

    /// <summary>
    /// Takes the pool's lock for a command that deletes; null (with the reason printed) when a driver or another
    /// command holds it.
    /// </summary>
    public static Core.Host.DirectoryLock? LockPool(ParseResult r, Option<string> dataDir, Option<string> poolDir,
        TextWriter output, string command)
    {
        try
        {
            return PoolLock.Acquire(Layout(r, dataDir, poolDir), $"loopvol {command}");
        }
        catch (IOException e)
        {
            output.WriteLine($"{command} refused: {e.Message}. It deletes, so it needs the pool to itself: stop the " +
                             "driver first (the read-only commands, and gc --dry-run, work while it serves).");
            return null;
        }
    }

    /// <summary>
    /// Opens the journal of the data directory (never creating one, and refusing a missing or empty one while the
    /// pool holds images, as the driver does) and runs <paramref name="body"/>; why it cannot goes to
    /// <paramref name="output"/>, with exit code 1.
    /// </summary>
    internal static int WithJournal(ParseResult r, Option<string> dataDir, Option<string> poolDir, TextWriter output,
        Func<Journal.Journal, int> body)
    {
        var path = Path.Combine(r.GetValue(dataDir)!, JournalFile);
        try
        {
            if (JournalGuard.EnsureUsable(path, Layout(r, dataDir, poolDir)) == Journal.Model.JournalContents.Missing)
            {
                output.WriteLine($"no journal at {path}");
                return 1;
            }
            using var journal = Journal.Journal.Open(path);
            return body(journal);
        }
        catch (Journal.JournalException e)
        {
            output.WriteLine(e.Message);
            return 1;
        }
    }
}
