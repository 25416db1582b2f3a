using System.Diagnostics.Metrics;

namespace Loopvol.Core.Diagnostics;

/// <summary>The journal: commits (their time and how many writes each carried) and checkpoints.</summary>
public static partial class DriverMeters
{
    private static readonly Histogram<double> Commits = SecondsHistogram("loopvol.journal.commit.duration",
        "Time of one journal commit, from BEGIN to the end of COMMIT (with its log sync when a write needs it)");

    private static readonly Histogram<long> Batches = Meter.CreateHistogram("loopvol.journal.commit.batch_size",
        unit: null, "Writes committed together in one transaction", tags: null,
        new InstrumentAdvice<long> { HistogramBucketBoundaries = BatchBuckets });

    private static readonly Histogram<double> Checkpoints = SecondsHistogram("loopvol.journal.checkpoint.duration",
        "Time of one write-ahead-log checkpoint");

    /// <summary>One commit of <paramref name="writes"/> writes took <paramref name="seconds"/>.</summary>
    public static void Committed(int writes, double seconds)
    {
        Commits.Record(seconds);
        Batches.Record(writes);
    }

    /// <summary>One checkpoint took <paramref name="seconds"/>.</summary>
    public static void Checkpointed(double seconds) => Checkpoints.Record(seconds);
}
