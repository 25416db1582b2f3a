using Loopvol.Core.Host;

namespace Loopvol.Tests.Support;

/// <summary>What tests may leave behind: no loop device and no mount of ours.</summary>
public static class HostLeaks
{
    /// <summary>
    /// Loop devices bound to files of our tests, and mounts under our temp directories. Only this run's temp root
    /// (TMPDIR) counts, so test runs with their own TMPDIR can share the machine without seeing each other.
    /// </summary>
    public static IReadOnlyList<string> Find()
    {
        var root = Path.GetTempPath();
        var ours = new List<string>();
        ours.AddRange(LoopBackingFiles.Read()
            .Where(p => p.Value.StartsWith(root, StringComparison.Ordinal) && p.Value.Contains("loopvol-", StringComparison.Ordinal))
            .Select(p => $"{p.Key} -> {p.Value}"));
        ours.AddRange(File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith(root, StringComparison.Ordinal) && m.Contains("/loopvol-test-", StringComparison.Ordinal))
            .Select(m => $"mount {m}"));
        return ours;
    }

    public static void AssertNone() => Assert.That(Find(), Is.Empty, "loop devices or mounts were left behind");
}
