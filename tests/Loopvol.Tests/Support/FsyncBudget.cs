namespace Loopvol.Tests.Support;

/// <summary>
/// The syncs the driver makes for one CreateVolume of an empty volume (no Kubernetes names) followed by its
/// DeleteVolume, as docs/durability.md sets them, in one place: computed from the code, never measured.
/// </summary>
public static class FsyncBudget
{
    /// <summary>
    /// Synced journal commits of the pair, made alone (nothing else writes meanwhile): MarkCreated before the create
    /// answers, MarkDeleting before the delete answers. The reservation and the sweeper's removal of the record are
    /// committed without a sync of their own (each is made durable by the next synced commit, and a crash that loses
    /// one is recovered at start-up).
    /// </summary>
    public const int JournalSyncsPerEmptyCreateDelete = 2;

    /// <summary>Image fsyncs of the pair: an empty image holds no data and is synced only before its first use.</summary>
    public const int ImageSyncsPerEmptyCreateDelete = 0;

    /// <summary>
    /// Pool-directory fsyncs of the pair: the delete sweeper's one, after the answer, before the record goes (so a
    /// scrape right after the delete answered may not count it yet).
    /// </summary>
    public const int DirectorySyncsPerEmptyCreateDelete = 1;

    /// <summary>Every sync of the pair.</summary>
    public const int SyncsPerEmptyCreateDelete =
        JournalSyncsPerEmptyCreateDelete + ImageSyncsPerEmptyCreateDelete + DirectorySyncsPerEmptyCreateDelete;
}
