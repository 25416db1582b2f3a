using Loopvol.Core.Ids;

namespace Loopvol.Pool;

/// <summary>
/// Holds the file systems of some volumes still, so copies of their images taken meanwhile form one point in time.
/// The hold must be released (disposed) on every path, and it releases them by itself when it outlasts its limit.
/// </summary>
public interface IVolumeQuiescer
{
    /// <summary>Holds <paramref name="volumes"/> still for at most <paramref name="within"/>, and never longer than the quiescer's own limit.</summary>
    IVolumeHold Quiesce(IReadOnlyList<ObjectId> volumes, TimeSpan? within = null);
}

/// <summary>A hold on some volumes' file systems; disposing it releases them.</summary>
public interface IVolumeHold : IDisposable
{
    /// <summary>
    /// True while the volumes are still held. It turns false before they are released by anything but
    /// <see cref="IDisposable.Dispose"/> (the limit passed, or releasing them failed), so copies finished while it
    /// was true were all taken during the hold.
    /// </summary>
    bool Held { get; }

    /// <summary>The longest the hold lasts.</summary>
    TimeSpan Limit { get; }
}
