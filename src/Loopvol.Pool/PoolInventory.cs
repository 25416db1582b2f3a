using Loopvol.Journal.Maintenance;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>The finished images in the pool directory, as the journal's check and gc see them.</summary>
public sealed class PoolInventory(PoolLayout layout) : IBackendInventory
{
    public IReadOnlyCollection<string> BackendNames()
    {
        if (!Directory.Exists(layout.Directory))
        {
            return [];
        }
        return Directory.EnumerateFiles(layout.Directory)
            .Select(path => PoolLayout.BackendNameOf(Path.GetFileName(path)))
            .OfType<string>()
            .ToList();
    }

    public bool Exists(string backendName) => File.Exists(layout.ImagePath(backendName));

    public PortableRecord? RecordOf(string backendName)
    {
        try
        {
            return ImageRecords.Read(layout.ImagePath(backendName));
        }
        catch (Core.Errors.CommandFailedException) when (!Exists(backendName))
        {
            return null;
        }
    }

    public void Delete(string backendName) => File.Delete(layout.ImagePath(backendName));
}
