using System.Diagnostics.Metrics;

namespace Loopvol.Core.Diagnostics;

/// <summary>
/// The driver's own instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>; an exporter (the driver's
/// <c>--metrics-address</c>) carries them. Counting costs an atomic increment, listened to or not. Names and units
/// follow the OpenTelemetry conventions, which the Prometheus exporter turns into Prometheus names (<c>loopvol.fsyncs</c>
/// with unit <c>{fsync}</c> becomes <c>loopvol_fsyncs_total</c>). Labels stay low-cardinality: a fixed set of values,
/// never an ID or a path.
/// </summary>
public static class DriverMeters
{
    public const string MeterName = "Loopvol";

    /// <summary>The instrument counting the driver's syncs to stable storage.</summary>
    public const string FsyncsInstrument = "loopvol.fsyncs";

    /// <summary>The label of <see cref="FsyncsInstrument"/> that says what was synced.</summary>
    public const string TargetTag = "target";

    private static readonly Meter Meter = new(MeterName, typeof(DriverMeters).Assembly.GetName().Version?.ToString());

    private static long _images;
    private static long _directories;
    private static long _journal;

    /// <summary>
    /// Counted from the start of the process with one atomic increment a sync, and read on each collection, so every
    /// series is there (at 0 too) from the first scrape on and a sync made before an exporter listened still counts.
    /// </summary>
    private static readonly ObservableCounter<long> Fsyncs = Meter.CreateObservableCounter(FsyncsInstrument, Observe,
        "{fsync}", "Syncs to stable storage the driver asked for, by what was synced: an image file, a directory " +
                   "(after a rename or unlink in it), or the journal (one write-ahead-log sync per commit)");

    /// <summary>
    /// Makes the instruments now rather than on the first sync, so an exporter started before any sync shows every
    /// series from its first scrape. Repeated: does nothing more.
    /// </summary>
    public static void Initialize() => GC.KeepAlive(Fsyncs);

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

    private static IEnumerable<Measurement<long>> Observe() =>
    [
        new(Interlocked.Read(ref _images), new KeyValuePair<string, object?>(TargetTag, "image")),
        new(Interlocked.Read(ref _directories), new KeyValuePair<string, object?>(TargetTag, "directory")),
        new(Interlocked.Read(ref _journal), new KeyValuePair<string, object?>(TargetTag, "journal")),
    ];
}
