using System.Globalization;
using Loopvol.Core.Ids;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;

namespace Loopvol.Cli;

/// <summary>How the journal commands print records and findings.</summary>
internal static class JournalPrinter
{
    public static void Table(TextWriter output, Journal.Journal journal, IReadOnlyList<Reservation> records)
    {
        var names = journal.AllKubernetesNames();
        output.WriteLine($"{"ID",-42} {"STATE",-9} {"SIZE",14} {"CREATED",-20} NAME");
        foreach (var r in records)
        {
            var kubernetes = names.TryGetValue(r.Id.Uuid, out var n) ? $"  ({KubernetesNames.Describe(n)})" : "";
            output.WriteLine(
                $"{r.Id,-42} {Lower(r.State),-9} {Size(r.SizeBytes),14} {r.CreatedAt:yyyy-MM-dd HH:mm:ss} {r.RequestName}{kubernetes}");
        }
        output.WriteLine($"{records.Count} record(s)");
    }

    public static void Details(TextWriter output, Journal.Journal journal, Reservation r)
    {
        output.WriteLine($"id:             {r.Id}");
        output.WriteLine($"request name:   {r.RequestName}");
        Line(output, "kubernetes", journal.KubernetesNamesOf(r.Id) is { Count: > 0 } names ? KubernetesNames.Describe(names) : null);
        output.WriteLine($"state:          {Lower(r.State)}");
        output.WriteLine($"backend name:   {r.BackendName}");
        output.WriteLine($"created:        {r.CreatedAt:u}");
        output.WriteLine($"size:           {Size(r.SizeBytes)}");
        output.WriteLine($"capacity range: required {Size(r.Arguments.RequiredBytes)}, limit {Size(r.Arguments.LimitBytes)}");
        output.WriteLine($"parameters:     {{{string.Join(", ", r.Arguments.Parameters.Select(p => $"{p.Key}={p.Value}"))}}}");
        Line(output, "content source", r.Arguments.ContentSource?.ToString());
        Line(output, "accessibility", r.Arguments.Accessibility?.ToString());
        Line(output, "capabilities", r.Arguments.Capabilities?.ToString());
        Line(output, "source volume", r.Arguments.SourceVolume?.ToString());
        Line(output, "source volumes", r.Arguments.GroupSources is { } sources ? string.Join(", ", sources) : null);
        Line(output, "group", r.Group?.ToString());
        output.WriteLine($"arguments:      {DefiningArgumentsJson.Serialize(r.Arguments)}");
        if (r.Id.Kind == ObjectKind.Group)
        {
            foreach (var (volume, snapshot) in journal.Members(r.Id))
            {
                output.WriteLine($"member:         {volume} -> {(snapshot.Length == 0 ? "(none)" : snapshot)}");
            }
        }
        if (r.Id.Kind == ObjectKind.Volume && journal.GetNodeVolume(r.Id.ToString()) is { } node)
        {
            output.WriteLine($"node state:     {node.State}, staged at {node.StagingPath ?? "-"} on {node.LoopDevice ?? "-"}");
            foreach (var p in node.Publications)
            {
                output.WriteLine($"published:      {p.TargetPath} ({p.AccessType}{(p.ReadOnly ? ", read-only" : "")})");
            }
        }
        output.WriteLine();
    }

    public static void Findings(TextWriter output, IReadOnlyList<Finding> findings)
    {
        foreach (var f in findings)
        {
            output.WriteLine($"  {f}");
        }
        if (findings.Count == 0)
        {
            output.WriteLine("  nothing");
        }
    }

    private static void Line(TextWriter output, string label, string? value)
    {
        if (value is not null)
        {
            output.WriteLine($"{label + ":",-15} {value}");
        }
    }

    private static string Lower(ReservationState state) => state.ToString().ToLowerInvariant();

    private static string Size(long? bytes) => bytes?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";
}
