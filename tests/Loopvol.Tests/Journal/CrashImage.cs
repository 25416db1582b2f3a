using Loopvol.Core.Faults;

namespace Loopvol.Tests.Journal;

/// <summary>
/// At the <see cref="CrashAtIndex"/>-th fault point reached, copies the journal's files exactly as they are on disk
/// (nothing rolled back, as after SIGKILL or a power cut) to <see cref="ImagePath"/>, then throws to stop the
/// operation. With no index it only records the points reached.
/// </summary>
public sealed class CrashImage(string journalPath, string imagePath, int crashAtIndex = -1) : IFaultInjector
{
    public List<string> Reached { get; } = [];

    public string ImagePath => imagePath;

    public int CrashAtIndex => crashAtIndex;

    public bool Crashed { get; private set; }

    void IFaultInjector.Reached(string point)
    {
        Reached.Add(point);
        if (Reached.Count - 1 != crashAtIndex)
        {
            return;
        }
        Crashed = true;
        File.Copy(journalPath, imagePath, overwrite: true);
        if (File.Exists(journalPath + "-wal"))
        {
            File.Copy(journalPath + "-wal", imagePath + "-wal", overwrite: true);
        }
        throw new SimulatedCrashException(point);
    }
}

public sealed class SimulatedCrashException(string point) : Exception($"simulated crash at {point}");
