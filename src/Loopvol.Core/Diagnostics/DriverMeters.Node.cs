using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Loopvol.Core.Diagnostics;

/// <summary>The node: freezes for group snapshots and failed thaws; and what start-up reconciliation repaired.</summary>
public static partial class DriverMeters
{
    /// <summary>Every kind of repair start-up reconciliation makes, each a series from the first scrape on.</summary>
    public static readonly IReadOnlyList<string> RepairKinds =
    [
        "stale_reservation", "faulty_record", "missing_backend", "orphan_backend", "entry_without_record",
        "record_without_entry", "back_pointer_mismatch", "duplicate_name", "faulty_with_entry",
        "delete_finished", "empty_image_restored", "publication_dropped", "stage_reset", "loop_device_detached",
        "loop_device_unexplained",
    ];

    private static readonly Histogram<double> Freezes = SecondsHistogram("loopvol.node.freeze.duration",
        "How long a group snapshot held file systems frozen, from the first freeze to the last thaw");

    private static long _thawFailures;

    private static readonly ObservableCounter<long> ThawFailures = Meter.CreateObservableCounter("loopvol.node.thaw_failures",
        () => Interlocked.Read(ref _thawFailures), unit: null, "Thaws that failed, each leaving a file system frozen");

    private static readonly ConcurrentDictionary<string, long> RepairCounts =
        new(RepairKinds.Select(k => KeyValuePair.Create(k, 0L)), StringComparer.Ordinal);

    private static readonly ObservableCounter<long> Repairs = Meter.CreateObservableCounter("loopvol.reconcile.repairs",
        () => RepairCounts.Select(p => new Measurement<long>(p.Value, new KeyValuePair<string, object?>("kind", p.Key))),
        unit: null, "Repairs start-up reconciliation made, by kind");

    /// <summary>File systems were held frozen for <paramref name="seconds"/>.</summary>
    public static void Froze(double seconds) => Freezes.Record(seconds);

    /// <summary>A thaw failed.</summary>
    public static void ThawFailed() => Interlocked.Increment(ref _thawFailures);

    /// <summary>Start-up reconciliation made <paramref name="count"/> repairs of <paramref name="kind"/> (one of <see cref="RepairKinds"/>).</summary>
    public static void Repaired(string kind, int count = 1)
    {
        if (count > 0)
        {
            RepairCounts.AddOrUpdate(kind, count, (_, n) => n + count);
        }
    }
}
