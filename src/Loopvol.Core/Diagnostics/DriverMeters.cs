using System.Diagnostics.Metrics;

namespace Loopvol.Core.Diagnostics;

/// <summary>
/// The driver's own instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>; an exporter (the driver's
/// <c>--metrics-address</c>) carries them. Recording costs an atomic increment or a histogram update, listened to or
/// not. Names and units follow the OpenTelemetry conventions, which the Prometheus exporter turns into Prometheus
/// names (<c>loopvol.fsyncs</c> with unit <c>{fsync}</c> becomes <c>loopvol_fsyncs_total</c>). Labels stay
/// low-cardinality: a fixed set of values, never an ID or a path. docs/metrics.md lists every metric.
/// The gauges read from a running driver's journal and pool at each scrape are made by the driver's host.
/// </summary>
public static partial class DriverMeters
{
    public const string MeterName = "Loopvol";

    /// <summary>The instrument counting the driver's syncs to stable storage.</summary>
    public const string FsyncsInstrument = "loopvol.fsyncs";

    /// <summary>The label of <see cref="FsyncsInstrument"/> that says what was synced.</summary>
    public const string TargetTag = "target";

    /// <summary>Bucket bounds, in seconds, of every duration histogram: 0.5 ms to 2 minutes.</summary>
    public static IReadOnlyList<double> SecondsBuckets => Shared.SecondsBuckets;

    /// <summary>Bucket bounds of the writes one commit carries: powers of two up to the largest batch.</summary>
    public static IReadOnlyList<long> BatchBuckets => Shared.BatchBuckets;

    /// <summary>
    /// The process's meter. The partial files' static instruments start in no fixed order, so what they share lives in
    /// <see cref="Shared"/>, made on first use.
    /// </summary>
    private static Meter Meter => Shared.Meter;

    private static long _images;
    private static long _directories;
    private static long _journal;

    /// <summary>
    /// Counted from the start of the process with one atomic increment a sync, and read on each collection, so every
    /// series is there (at 0 too) from the first scrape on and a sync made before an exporter listened still counts.
    /// </summary>
    private static readonly ObservableCounter<long> Fsyncs = Meter.CreateObservableCounter(FsyncsInstrument, ObserveFsyncs,
        "{fsync}", "Syncs to stable storage the driver asked for, by what was synced: an image file, a directory " +
                   "(after a rename or unlink in it), or the journal (one write-ahead-log sync per commit)");

    /// <summary>
    /// Makes the instruments now rather than on first use, so an exporter started before anything happened shows
    /// every counter series from its first scrape. Repeated: does nothing more.
    /// </summary>
    public static void Initialize()
    {
        GC.KeepAlive(Fsyncs);
        GC.KeepAlive(Calls);
        GC.KeepAlive(Commits);
        GC.KeepAlive(ThawFailures);
        GC.KeepAlive(Repairs);
    }

    /// <summary>A meter of the same name for instruments that live as long as one driver (disposed with it).</summary>
    public static Meter CreateDriverMeter() => new(MeterName, Meter.Version);

    /// <summary>An image file (its data and its record) was fsync'ed.</summary>
    public static void ImageSynced() => Interlocked.Increment(ref _images);

    /// <summary>A directory was fsync'ed, so a rename or unlink in it is durable.</summary>
    public static void DirectorySynced() => Interlocked.Increment(ref _directories);

    /// <summary>
    /// The journal committed a transaction: SQLite in WAL mode with <c>synchronous = FULL</c> syncs the write-ahead
    /// log once per commit. Called once per commit (once per group of calls committed together). A commit that
    /// changed nothing, which only a repeat that finds its work done makes, is counted though SQLite syncs nothing
    /// for it. Not counted: the background checkpoints' syncs of the log and the database file, and the sync of a
    /// restarted log's header.
    /// </summary>
    public static void JournalSynced() => Interlocked.Increment(ref _journal);

    /// <summary>
    /// <paramref name="name"/> (PascalCase, as an enum value) as a label value, lower_snake_case: the one spelling of
    /// kinds and states in metrics and in <c>loopvol status</c>.
    /// </summary>
    public static string LabelOf(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static IEnumerable<Measurement<long>> ObserveFsyncs() =>
    [
        new(Interlocked.Read(ref _images), new KeyValuePair<string, object?>(TargetTag, "image")),
        new(Interlocked.Read(ref _directories), new KeyValuePair<string, object?>(TargetTag, "directory")),
        new(Interlocked.Read(ref _journal), new KeyValuePair<string, object?>(TargetTag, "journal")),
    ];

    private static class Shared
    {
        public static readonly Meter Meter = new(MeterName, typeof(DriverMeters).Assembly.GetName().Version?.ToString());

        public static readonly IReadOnlyList<double> SecondsBuckets =
            [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

        public static readonly IReadOnlyList<long> BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    }

    private static Histogram<double> SecondsHistogram(string name, string description) =>
        Meter.CreateHistogram(name, "s", description, tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
}
