using System.Globalization;

namespace Loopvol.Cli;

/// <summary>How <c>loopvol status</c> prints a <see cref="NodeStatus"/> for a person.</summary>
internal static class StatusPrinter
{
    private const int BarWidth = 20;
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static void Text(TextWriter output, NodeStatus status)
    {
        var pool = status.Pool;
        Line(output, "pool", pool.Directory);
        Line(output, "  size", $"{Size(pool.SizeBytes)}: {Size(pool.UsedBytes)} used, {Size(pool.FreeBytes)} free");
        Line(output, "  used", $"{Bar(pool.UsedRatio)} {Percent(pool.UsedBytes, pool.FreeBytes)} %");
        Line(output, "  provisioned", $"{Size(pool.ProvisionedBytes)}, " +
                                      $"{pool.ProvisionedRatio.ToString("0.00", CultureInfo.InvariantCulture)} x the size");
        if (pool.CopyMode is { } mode)
        {
            Line(output, "  copies", mode == Pool.CopyModes.Reflink ? "reflinks (shared extents)" : "full copies (no reflinks)");
        }
        Line(output, "journal", status.Journal);
        output.WriteLine($"  {"records",-10} {"reserved",9} {"created",9} {"deleting",9} {"faulty",9}");
        Counts(output, "volume", status.Records.Volume);
        Counts(output, "snapshot", status.Records.Snapshot);
        Counts(output, "group", status.Records.Group);
        Staged(output, status.StagedVolumes);
        if (status.NeedsOperator.Count == 0)
        {
            output.WriteLine("nothing needs an operator");
            return;
        }
        output.WriteLine($"needs an operator ({status.NeedsOperator.Count})");
        var width = status.NeedsOperator.Max(i => i.Kind.Length);
        foreach (var item in status.NeedsOperator)
        {
            output.WriteLine($"  {item.Kind.PadRight(width)}  {item.Subject}: {item.Detail}");
        }
    }

    private static void Line(TextWriter output, string label, string value) => output.WriteLine($"{label,-15}{value}");

    private static void Counts(TextWriter output, string kind, StateCounts c) =>
        output.WriteLine($"  {kind,-10} {c.Reserved,9} {c.Created,9} {c.Deleting,9} {c.Faulty,9}");

    private static void Staged(TextWriter output, IReadOnlyList<StagedVolume> volumes)
    {
        Line(output, "staged", volumes.Count == 0 ? "none" : $"{volumes.Count} volume(s)");
        foreach (var v in volumes)
        {
            output.WriteLine($"  {v.VolumeId}  {v.State}  at {v.StagingPath ?? "-"} on {v.LoopDevice ?? "-"}");
            foreach (var p in v.Publications)
            {
                output.WriteLine($"    published at {p.TargetPath} ({p.AccessType}{(p.ReadOnly ? ", read-only" : "")})");
            }
        }
    }

    /// <summary>A fill bar, e.g. <c>[##########----------]</c> at one half.</summary>
    internal static string Bar(double ratio)
    {
        var filled = (int)Math.Round(Math.Clamp(ratio, 0, 1) * BarWidth, MidpointRounding.AwayFromZero);
        return $"[{new string('#', filled)}{new string('-', BarWidth - filled)}]";
    }

    /// <summary>df's Use%: used over used and free, rounded up.</summary>
    private static int Percent(long used, long free) => used + free <= 0 ? 0 : (int)Math.Ceiling(used * 100.0 / (used + free));

    /// <summary>Bytes in binary units with one decimal: <c>1.5 GiB</c>; under 1 KiB as a plain count.</summary>
    internal static string Size(long bytes)
    {
        var unit = 0;
        var value = (double)bytes;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? $"{bytes} B"
            : $"{value.ToString("0.0", CultureInfo.InvariantCulture)} {Units[unit]}";
    }
}
