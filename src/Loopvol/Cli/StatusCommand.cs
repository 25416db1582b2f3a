using Loopvol.Core.Diagnostics;
using System.CommandLine;
using System.Text.Json;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.Pool;

namespace Loopvol.Cli;

/// <summary>
/// <c>loopvol status [--json]</c>: an operator's one screen on a node. It only reads, so it is safe while the driver
/// serves: it opens the journal as the <c>journal</c> commands do (never creating one) and writes nothing to the pool.
/// </summary>
internal static class StatusCommand
{
    public const int NothingToDo = 0;
    public const int NeedsOperator = 1;

    public static Command Create(Option<string> dataDir, Option<string> poolDir, TextWriter output)
    {
        var json = new Option<bool>("--json")
        {
            Description = "Write the same facts as one JSON object (lower_snake_case keys, sizes in bytes), for scripts",
        };
        var command = new Command("status",
            "Show this node at a glance: the pool's file system and how full it is, provisioned bytes, journal " +
            "records by kind and state, staged volumes and their publications, and what needs an operator. Exit " +
            "code 0 when nothing needs an operator; 1 when something does, or when there is no journal or pool to " +
            "read; 2 for a usage error")
        {
            json,
        };
        command.SetAction(r =>
        {
            var errors = r.InvocationConfiguration.Error;
            return JournalCommand.WithJournal(r, dataDir, poolDir, errors, journal =>
            {
                var layout = JournalCommand.Layout(r, dataDir, poolDir);
                if (!Directory.Exists(layout.Directory))
                {
                    errors.WriteLine($"no pool at {layout.Directory}; give --pool-dir where the driver keeps its images");
                    return NeedsOperator;
                }
                var status = Gather(journal, layout, DateTimeOffset.UtcNow);
                if (r.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(status, NodeStatusJson.Default.NodeStatus));
                }
                else
                {
                    StatusPrinter.Text(output, status);
                }
                return status.NeedsOperator.Count == 0 ? NothingToDo : NeedsOperator;
            });
        });
        return command;
    }

    /// <summary>Reads what <c>status</c> shows; the journal check runs with the default grace, as <c>journal check</c>.</summary>
    internal static NodeStatus Gather(Journal.Journal journal, PoolLayout layout, DateTimeOffset now)
    {
        var findings = JournalAudit.Check(journal, new PoolInventory(layout), now,
            TimeSpan.FromSeconds(JournalCommand.DefaultGraceSeconds));
        return new NodeStatus(
            journal.Path,
            Pool(layout.Directory, journal.ProvisionedBytes()),
            new RecordCounts(Counts(journal, ObjectKind.Volume), Counts(journal, ObjectKind.Snapshot),
                Counts(journal, ObjectKind.Group)),
            journal.NodeVolumes().Select(Staged).ToList(),
            findings.Select(f => new OperatorItem(DriverMeters.LabelOf(f.Kind.ToString()), f.Subject, f.Detail, f.Repairable)).ToList());
    }

    private static PoolStatus Pool(string directory, long provisioned)
    {
        var stats = FileSystemStats.Of(directory);
        var used = stats.TotalBytes - stats.FreeBytes;
        return new PoolStatus(directory, stats.TotalBytes, used, stats.AvailableBytes,
            Ratio(used, used + stats.AvailableBytes), provisioned, Ratio(provisioned, stats.TotalBytes),
            CopyModes.Of(directory));
    }

    private static StateCounts Counts(Journal.Journal journal, ObjectKind kind)
    {
        var counts = journal.Count(kind);
        long Of(ReservationState state) => counts.TryGetValue(state, out var n) ? n : 0;
        return new StateCounts(Of(ReservationState.Reserved), Of(ReservationState.Created),
            Of(ReservationState.Deleting), Of(ReservationState.Faulty));
    }

    private static StagedVolume Staged(NodeVolume volume) => new(volume.VolumeId, DriverMeters.LabelOf(volume.State.ToString()),
        volume.StagingPath, volume.LoopDevice,
        volume.Publications.Select(p => new PublishedAt(p.TargetPath, p.ReadOnly, p.AccessType)).ToList());

    private static double Ratio(long part, long whole) => whole <= 0 ? 0 : Math.Round((double)part / whole, 4);

}
