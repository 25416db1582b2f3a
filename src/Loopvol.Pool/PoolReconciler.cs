using Loopvol.Core.Diagnostics;
using Loopvol.Core.Ids;
using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;
using Microsoft.Extensions.Logging;

namespace Loopvol.Pool;

/// <summary>
/// At start, before serving, brings the pool and the journal back together. With the data directory locked no
/// call is in flight, so what a crash left half done is repaired: deletes left deleting are finished (the image
/// unlinked again if a crash brought it back, the directory synced, then the records removed), empty images a crash
/// lost before they reached the disk are made again (<see cref="EmptyImages.Restore"/>), and then what gc repairs
/// is repaired: stale reservations undone, faulty records and their images removed (the directory synced between). Images without a record and
/// records whose durable image is gone are only reported: an image may belong to a journal restored from an older
/// backup, and a lost image that may have held data needs a person. Each repair and each report is logged.
/// </summary>
public static partial class PoolReconciler
{
    public static async Task<IReadOnlyList<Finding>> ReconcileAsync(Journal.Journal journal, ImageStore images, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(images);
        var finished = await FinishDeletesAsync(journal, images, logger).ConfigureAwait(false);
        var restored = RestoreEmptyImages(journal, images, logger);
        DriverMeters.Repaired("delete_finished", finished);
        DriverMeters.Repaired("empty_image_restored", restored);
        var repaired = finished + restored;
        var inventory = new PoolInventory(images.Layout);
        var findings = JournalAudit.Check(journal, inventory, DateTimeOffset.UtcNow, TimeSpan.Zero);
        var repairs = findings.Where(f => !LeftForOperator(f)).ToList();
        var faulty = repairs.Where(f => f.Kind == FindingKind.FaultyRecord).Select(f => IdOf(f.Subject)).ToList();
        faulty.ForEach(id => inventory.Delete(id.ToString()));
        if (faulty.Count > 0)
        {
            images.SyncDirectory(); // The images are gone for good before the records that name them.
        }
        foreach (var finding in repairs)
        {
            await journal.RemoveAsync(IdOf(finding.Subject)).ConfigureAwait(false);
            Repaired(logger, finding.Kind, finding.Subject, finding.Detail);
            DriverMeters.Repaired(DriverMeters.LabelOf(finding.Kind.ToString()));
        }
        foreach (var finding in findings.Where(LeftForOperator))
        {
            NeedsOperator(logger, finding.Kind, finding.Subject, finding.Detail);
        }
        Reconciled(logger, repaired + repairs.Count, findings.Count(LeftForOperator));
        return findings;
    }

    /// <summary>
    /// What start-up leaves for an operator: what it must not repair alone, and images no record names (one may
    /// belong to a journal restored from an older backup; <c>journal gc</c> removes them when asked).
    /// </summary>
    public static bool LeftForOperator(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        return !finding.Repairable || finding.Kind == FindingKind.OrphanBackend;
    }

    /// <summary>
    /// Every volume and snapshot record left deleting: its image unlinked (again, if a crash lost the unlink), one
    /// directory sync, then the records removed in one write. Groups left deleting were discarded before.
    /// </summary>
    private static async Task<int> FinishDeletesAsync(Journal.Journal journal, ImageStore images, ILogger logger)
    {
        var deleting = journal.All().Where(r => r.State == ReservationState.Deleting && r.Id.Kind != ObjectKind.Group).ToList();
        if (deleting.Count == 0)
        {
            return 0;
        }
        foreach (var record in deleting)
        {
            var unlinked = images.Exists(record.BackendName);
            images.Delete(record.BackendName);
            DeleteFinished(logger, record.Id.ToString(), unlinked ? "its image was still there and is deleted now" : "its image was gone");
        }
        images.SyncDirectory();
        await journal.RemoveDeletedAsync([.. deleting.Select(r => r.Id)]).ConfigureAwait(false);
        return deleting.Count;
    }

    private static int RestoreEmptyImages(Journal.Journal journal, ImageStore images, ILogger logger) =>
        journal.All(ObjectKind.Volume).Where(r => r is { State: ReservationState.Created, ImageDurable: false })
            .Count(r => EmptyImages.Restore(journal, images.Layout, r, logger));

    private static ObjectId IdOf(string subject) => Enum.GetValues<ObjectKind>()
        .Select(k => ObjectId.TryParse(subject, k, out var parsed) ? parsed : null)
        .First(p => p is not null)!.Value;

    [LoggerMessage(3110, LogLevel.Warning, "start-up repair: {Kind} {Subject}: {Detail}")]
    private static partial void Repaired(ILogger logger, FindingKind kind, string subject, string detail);

    [LoggerMessage(3111, LogLevel.Warning, "left for an operator ('loopvol journal check'): {Kind} {Subject}: {Detail}")]
    private static partial void NeedsOperator(ILogger logger, FindingKind kind, string subject, string detail);

    [LoggerMessage(3112, LogLevel.Information, "pool reconciled with the journal: {Repaired} repaired, {Reported} reported")]
    private static partial void Reconciled(ILogger logger, int repaired, int reported);

    [LoggerMessage(3113, LogLevel.Warning, "start-up repair: finished the delete of {Subject}, interrupted by a crash: {Detail}")]
    private static partial void DeleteFinished(ILogger logger, string subject, string detail);
}
