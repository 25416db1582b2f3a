using Microsoft.Extensions.Logging;

namespace Loopvol.Journal.Internal;

/// <summary>Journal log messages; event ids 3000-3099.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Information, "journal {Path} open at schema version {Version}")]
    public static partial void Opened(ILogger logger, string path, int version);

    [LoggerMessage(3001, LogLevel.Warning,
        "undid stale reservation {Id} of {Kind} '{Name}': reserved, but its backend object never appeared")]
    public static partial void StaleUndone(ILogger logger, string id, string kind, string name);

    [LoggerMessage(3002, LogLevel.Warning, "marked {Id} faulty: its creation failed half way; a retry gets a new ID")]
    public static partial void MarkedFaulty(ILogger logger, string id);

    [LoggerMessage(3003, LogLevel.Warning, "journal checkpoint ({Mode}) failed, retried on the next tick: {Reason}")]
    public static partial void CheckpointFailed(ILogger logger, string mode, string reason);
}
