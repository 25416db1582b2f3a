namespace Loopvol.Tests.Support;

/// <summary>
/// The syncs the driver must make, as the code stands, in one place: computed from the code, never measured. When the
/// journal's group commit or issue 13's fsync budget changes what a call syncs, change the numbers here.
/// </summary>
public static class FsyncBudget
{
    /// <summary>
    /// Journal commits of one CreateVolume (empty volume, no Kubernetes names) followed by its DeleteVolume:
    /// CreateVolume reserves the name (<c>Journal.Reserve</c>) and, once the image exists, records it created
    /// (<c>MarkCreated</c>); DeleteVolume marks the record deleting (<c>MarkDeleting</c>) and, once the image is gone,
    /// removes it (<c>Remove</c>). Each is a transaction of its own, and each commit syncs the write-ahead log once.
    /// </summary>
    public const int JournalCommitsPerCreateDelete = 4;
}
