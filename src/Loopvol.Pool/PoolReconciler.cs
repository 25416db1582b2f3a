using Loopvol.Journal.Maintenance;
using Microsoft.Extensions.Logging;

namespace Loopvol.Pool;

/// <summary>
/// At start, before serving, brings the pool and the journal back together. With the data directory locked no
/// call is in flight, so what a crash left half done is repaired as gc repairs it: stale reservations undone, faulty
/// records and their images removed, interrupted deletes finished. Images without a record and records without
/// an image are only reported: an image may belong to a journal restored from an older backup, and a lost image
/// needs a person. Each repair and each report is logged.
/// </summary>
public static partial class PoolReconciler
{
    public static async Task<IReadOnlyList<Finding>> ReconcileAsync(Journal.Journal journal, ImageStore images, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(images);
        var inventory = new PoolInventory(images.Layout);
        var now = DateTimeOffset.UtcNow;
        var findings = JournalAudit.Check(journal, inventory, now, TimeSpan.Zero);
        foreach (var finding in findings.Where(f => f.Repairable && f.Kind != FindingKind.OrphanBackend))
        {
            await RepairAsync(journal, inventory, finding).ConfigureAwait(false);
            Repaired(logger, finding.Kind, finding.Subject, finding.Detail);
        }
        foreach (var finding in findings.Where(f => !f.Repairable || f.Kind == FindingKind.OrphanBackend))
        {
            NeedsOperator(logger, finding.Kind, finding.Subject, finding.Detail);
        }
        Reconciled(logger, findings.Count(f => f.Repairable && f.Kind != FindingKind.OrphanBackend),
            findings.Count(f => !f.Repairable || f.Kind == FindingKind.OrphanBackend));
        return findings;
    }

    private static async Task RepairAsync(Journal.Journal journal, PoolInventory inventory, Finding finding)
    {
        var id = Enum.GetValues<Core.Ids.ObjectKind>()
            .Select(k => Core.Ids.ObjectId.TryParse(finding.Subject, k, out var parsed) ? parsed : null)
            .First(p => p is not null)!.Value;
        if (finding.Kind == FindingKind.FaultyRecord)
        {
            inventory.Delete(id.ToString());
        }
        await journal.RemoveAsync(id).ConfigureAwait(false);
    }

    [LoggerMessage(3110, LogLevel.Warning, "start-up repair: {Kind} {Subject}: {Detail}")]
    private static partial void Repaired(ILogger logger, FindingKind kind, string subject, string detail);

    [LoggerMessage(3111, LogLevel.Warning, "left for an operator ('loopvol journal check'): {Kind} {Subject}: {Detail}")]
    private static partial void NeedsOperator(ILogger logger, FindingKind kind, string subject, string detail);

    [LoggerMessage(3112, LogLevel.Information, "pool reconciled with the journal: {Repaired} repaired, {Reported} reported")]
    private static partial void Reconciled(ILogger logger, int repaired, int reported);
}
