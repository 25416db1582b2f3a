using System.CommandLine;
using System.Globalization;
using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Journal;
using Loopvol.Journal.Model;
using Loopvol.Pool;

namespace Loopvol.Cli;

/// <summary>
/// <c>loopvol journal rebuild [--force]</c>: makes a new journal from the records the pool's images carry. It
/// needs the data directory and the pool to itself (it refuses while a driver serves either), never overwrites a
/// journal that holds records unless told, and then keeps the old file aside. The new journal is written under
/// another name and renamed into place, so a failure half way leaves the old one as it was.
/// </summary>
internal static class RebuildCommand
{
    public static Command Create(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var force = new Option<bool>("--force")
        {
            Description = "Replace a journal that holds records (or cannot be read); the old file is kept aside",
        };
        var command = new Command("rebuild",
            "Make the journal again from the records the pool's images carry (volumes, snapshots, group snapshots); " +
            "exit code 1 when an image could not be recovered") { force };
        command.SetAction(r =>
        {
            var data = Path.GetFullPath(r.GetValue(dataDir)!);
            var layout = JournalCommand.Layout(r, dataDir, poolDir);
            if (!Directory.Exists(layout.Directory))
            {
                output.WriteLine($"rebuild refused: there is no pool at {layout.Directory}");
                return 1;
            }
            DirectoryLock dataLock;
            try
            {
                Directory.CreateDirectory(data);
                dataLock = DirectoryLock.Acquire(data, holder: DirectoryLock.Describe("loopvol journal rebuild"));
            }
            catch (IOException e)
            {
                output.WriteLine($"rebuild refused: {e.Message}. Stop the driver first.");
                return 1;
            }
            using (dataLock)
            using (var poolLock = JournalCommand.LockPool(r, dataDir, poolDir, output, "journal rebuild"))
            {
                try
                {
                    return poolLock is null ? 1 : Rebuild(Path.Combine(data, JournalCommand.JournalFile), layout, r.GetValue(force), output);
                }
                catch (Exception e) when (e is JournalException or IOException or UnauthorizedAccessException)
                {
                    output.WriteLine($"rebuild failed; the old journal, if any, is as it was or kept aside: {e.Message}");
                    return 1;
                }
            }
        });
        return command;
    }

    private static int Rebuild(string path, PoolLayout layout, bool force, TextWriter output)
    {
        string? refusal;
        try
        {
            refusal = Journal.Journal.Probe(path) == JournalContents.Records && !force
                ? $"rebuild refused: journal {path} holds records. Back it up ('loopvol journal backup'), then run " +
                  "'journal rebuild --force', which keeps it aside and writes a new one"
                : null;
        }
        catch (JournalException e)
        {
            refusal = force ? null : $"rebuild refused: {e.Message}. With --force it is kept aside and a new journal written";
        }
        if (refusal is not null)
        {
            output.WriteLine(refusal);
            return 1;
        }
        var plan = PoolRebuild.Plan(layout);
        var building = $"{path}.rebuild-{Environment.ProcessId}";
        DeleteBuilding(building); // What a rebuild that died with the same process ID left.
        try
        {
            using (var journal = Journal.Journal.Open(building))
            {
                journal.ImportAsync(plan.Records).GetAwaiter().GetResult();
                if (journal.Verify() is [var problem, ..])
                {
                    output.WriteLine($"rebuild failed, nothing replaced: the new journal does not verify: {problem}");
                    return 1;
                }
            }
            var kept = KeepAside(path);
            File.Move(building, path);
            Core.Native.Directories.Sync(Path.GetDirectoryName(path)!);
            Report(output, path, layout, plan, kept);
            return plan.NotRecovered.Count == 0 ? 0 : 1;
        }
        finally
        {
            DeleteBuilding(building);
        }
    }

    private static void DeleteBuilding(string building)
    {
        foreach (var file in new[] { building, building + "-wal", building + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>Moves the old journal and its side files aside (never deletes them); returns where, or null when there was none.</summary>
    private static string? KeepAside(string path)
    {
        var files = new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists).ToList();
        if (files.Count == 0)
        {
            return null;
        }
        var aside = $"{path}.before-rebuild-{DateTime.UtcNow.ToString("yyyyMMddTHHmmssfffZ", CultureInfo.InvariantCulture)}";
        foreach (var file in files)
        {
            File.Move(file, aside + file[path.Length..]);
        }
        return aside;
    }

    private static void Report(TextWriter output, string path, PoolLayout layout, RebuildPlan plan, string? kept)
    {
        output.WriteLine($"rebuilt {path} from the pool {layout.Directory}: {plan.Count(ObjectKind.Volume)} volume(s), " +
                         $"{plan.Count(ObjectKind.Snapshot)} snapshot(s), {plan.Count(ObjectKind.Group)} group snapshot(s)");
        output.WriteLine(kept is null ? "there was no journal before" : $"the old journal is kept as {kept}");
        foreach (var note in plan.Notes)
        {
            output.WriteLine($"  note: {note}");
        }
        if (plan.NotRecovered.Count > 0)
        {
            output.WriteLine($"not recovered ({plan.NotRecovered.Count}); 'journal check' lists them until an operator decides:");
            foreach (var line in plan.NotRecovered)
            {
                output.WriteLine($"  {line}");
            }
        }
    }
}
