using Microsoft.Extensions.Logging;

namespace Loopvol.Pool;

/// <summary>
/// What the pool reports when the driver opens it, of group parts, of snapshot metadata and of thick volumes; event ids
/// 3100-3109 (3103 is <see cref="EmptyImages"/>', 3104 the delete sweeper's).
/// </summary>
public static partial class PoolLog
{
    [LoggerMessage(3100, LogLevel.Information, "pool {Directory}: copies are {Kind}")]
    private static partial void Opened(ILogger logger, string directory, string kind);

    /// <summary>How the pool copies images: with reflinks, sparse copies, or not known yet on a full pool.</summary>
    public static void Opened(ILogger logger, string directory, bool? reflink) =>
        Opened(logger, directory, reflink switch
        {
            true => "reflinks (shared extents)",
            false => "sparse copies (no reflink support)",
            null => "not known yet (the pool is full; the first copy tries a reflink)",
        });

    [LoggerMessage(3101, LogLevel.Information, "discarded {Count} group snapshot(s) left half made by a crash")]
    public static partial void GroupsDiscarded(ILogger logger, int count);

    [LoggerMessage(3102, LogLevel.Information, "wrote the record of {Count} image(s) that carried none")]
    public static partial void ImageRecordsWritten(ILogger logger, int count);

    [LoggerMessage(3105, LogLevel.Warning,
        "group snapshot '{Name}' ({Id}): its lease of {Lease} ended before the controller committed it; thawed and discarded this node's part")]
    public static partial void PartExpired(ILogger logger, string name, string id, TimeSpan lease);

    [LoggerMessage(3106, LogLevel.Error, "group snapshot {Id}: discarding this node's part after its lease failed (discarded at the next start or abort): {Reason}")]
    public static partial void PartExpiryFailed(ILogger logger, string id, string reason);

    [LoggerMessage(3108, LogLevel.Warning,
        "volume {Id} is thick, but its blocks shared by a snapshot or added by a growth could not be reserved again (reserved at the next modify to thick or growth): {Reason}")]
    public static partial void ThickNotKept(ILogger logger, string id, string reason);

    [LoggerMessage(3107, LogLevel.Debug,
        "snapshot metadata of {Subject} by {Method}: {Ranges} range(s), {BytesRead} bytes of image data read, complete: {Complete}")]
    public static partial void MetadataServed(ILogger logger, string subject, Extents.MetadataMethod method, long ranges,
        long bytesRead, bool complete);
}
