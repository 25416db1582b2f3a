using Loopvol.Journal.Model;

namespace Loopvol.Journal.Maintenance;

/// <summary>The backend objects that exist (the pool's image files), named by their backend names.</summary>
public interface IBackendInventory
{
    /// <summary>Every backend object present, finished ones only (never a half-written temporary).</summary>
    IReadOnlyCollection<string> BackendNames();

    bool Exists(string backendName);

    /// <summary>
    /// The record a backend object carries of itself; null when it carries none (or is gone). One that cannot be
    /// read is a <see cref="FormatException"/>.
    /// </summary>
    PortableRecord? RecordOf(string backendName);

    /// <summary>Removes a backend object; one that is already gone is success.</summary>
    void Delete(string backendName);
}
