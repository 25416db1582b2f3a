using System.Diagnostics.Metrics;
using Loopvol.Core.Diagnostics;
using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Core.Native;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Loopvol.Pool;

namespace Loopvol.Hosting;

/// <summary>
/// The gauges of one running driver, read at each scrape from its pool, its journal and this node: a few indexed
/// journal queries, one statvfs and one look at the loop devices. They live on a meter of their own, made with the
/// metrics listener and disposed with it, so a scrape shows this driver alone. docs/metrics.md lists them.
/// </summary>
public sealed class DriverGauges : IDisposable
{
    private readonly Meter _meter = DriverMeters.CreateDriverMeter();
    private readonly StoragePool _pool;
    private readonly Journal.Journal _journal;
    private readonly IReadOnlyList<string> _findings;

    /// <param name="pool">The driver's pool.</param>
    /// <param name="journal">The pool's journal.</param>
    /// <param name="findings">
    /// What start-up reconciliation left for an operator, one entry a finding, by kind (a
    /// <see cref="DriverMeters.LabelOf"/> of a <see cref="FindingKind"/>, or <c>loop_device_unexplained</c>).
    /// </param>
    public DriverGauges(StoragePool pool, Journal.Journal journal, IReadOnlyList<string> findings)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(journal);
        _pool = pool;
        _journal = journal;
        _findings = findings;
        Bytes("loopvol.pool.size", "Size of the pool's file system", () => Stats().TotalBytes);
        Bytes("loopvol.pool.used", "Bytes used on the pool's file system", () => Stats() is var s ? s.TotalBytes - s.FreeBytes : 0);
        Bytes("loopvol.pool.available", "The largest volume the pool still admits (what GetCapacity answers)", _pool.AvailableBytes);
        Bytes("loopvol.pool.provisioned", "Sum of the sizes of every volume the journal holds", _journal.ProvisionedBytes);
        Bytes("loopvol.pool.thick_provisioned",
            "Sum of the sizes of thick volumes (provisioning: thick), whose blocks are reserved on the pool's file system",
            _journal.ThickBytes);
        _meter.CreateObservableGauge("loopvol.pool.overcommit_ratio", () => _pool.Options.OvercommitRatio, unit: null,
            "The over-commit ratio in effect");
        _meter.CreateObservableGauge("loopvol.pool.images", Images, unit: null, "Images in the pool, by kind");
        _meter.CreateObservableGauge("loopvol.pool.copy_mode", CopyMode, unit: null,
            "1 for how snapshots and clones are copied on this file system (reflink or copy), 0 for the other");
        _meter.CreateObservableGauge("loopvol.journal.records", Records, unit: null, "Journal records by kind and state");
        Bytes("loopvol.journal.wal.size", "Size of the journal's write-ahead log file", () => _journal.WalBytes);
        _meter.CreateObservableGauge("loopvol.node.staged_volumes", () => _journal.CountNodeVolumes().Staged, unit: null,
            "Volumes staged on this node");
        _meter.CreateObservableGauge("loopvol.node.publications", () => _journal.CountNodeVolumes().Publications,
            unit: null, "Target paths volumes are published at on this node");
        _meter.CreateObservableGauge("loopvol.node.loop_devices", LoopDevices, unit: null,
            "Loop devices attached to images of this pool");
        _meter.CreateObservableGauge("loopvol.reconcile.findings", Findings, unit: null,
            "What the last start-up reconciliation found and left for an operator, by kind");
    }

    /// <summary>Every kind a finding left for an operator can have.</summary>
    public static IReadOnlyList<string> FindingKinds { get; } =
        [.. Enum.GetValues<FindingKind>().Select(k => DriverMeters.LabelOf(k.ToString())), "loop_device_unexplained"];

    public void Dispose() => _meter.Dispose();

    private void Bytes(string name, string description, Func<long> read) =>
        _meter.CreateObservableGauge(name, read, "By", description);

    private FileSystemStats Stats() => FileSystemStats.Of(_pool.Images.Layout.Directory);

    private IEnumerable<Measurement<long>> Images() => new[] { ObjectKind.Volume, ObjectKind.Snapshot }.Select(kind =>
        new Measurement<long>(_journal.Count(kind).GetValueOrDefault(ReservationState.Created),
            Tag("kind", DriverMeters.LabelOf(kind.ToString()))));

    private IEnumerable<Measurement<long>> CopyMode()
    {
        if (_pool.Images.SupportsReflink is not { } reflink)
        {
            return []; // Not known until a copy tells (a full pool left the probe no room).
        }
        return [new(reflink ? 1 : 0, Tag("mode", "reflink")), new(reflink ? 0 : 1, Tag("mode", "copy"))];
    }

    private IEnumerable<Measurement<long>> Records() => Enum.GetValues<ObjectKind>().SelectMany(kind =>
    {
        var counts = _journal.Count(kind);
        return Enum.GetValues<ReservationState>().Select(state => new Measurement<long>(counts.GetValueOrDefault(state),
            Tag("kind", DriverMeters.LabelOf(kind.ToString())), Tag("state", DriverMeters.LabelOf(state.ToString()))));
    });

    private long LoopDevices()
    {
        var directory = _pool.Images.Layout.Directory;
        return LoopBackingFiles.Read().Values.Count(backing => Path.GetDirectoryName(backing) == directory);
    }

    private IEnumerable<Measurement<long>> Findings() =>
        FindingKinds.Select(kind => new Measurement<long>(_findings.Count(f => f == kind), Tag("kind", kind)));

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
