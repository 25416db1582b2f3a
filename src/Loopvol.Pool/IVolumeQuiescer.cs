using Loopvol.Core.Ids;

namespace Loopvol.Pool;

/// <summary>
/// Holds the file systems of some volumes still, so copies of their images taken meanwhile form one point in time.
/// The handle releases them; it must be released on every path, and it releases them by itself when the hold
/// outlasts its limit.
/// </summary>
public interface IVolumeQuiescer
{
    IDisposable Quiesce(IReadOnlyList<ObjectId> volumes);
}
