using Loopvol.Bench;
using Loopvol.Journal;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Bench;

public sealed class JournalBenchmarkTests
{
    [Test]
    public async Task ShortRun_ReportsEveryTimedCall_AndCleansUp()
    {
        using var dir = new TempDirectory();

        var row = await JournalBenchmark.RunAsync(500, 100, dir.Path, new JournalOptions());

        Assert.That(row.Existing, Is.EqualTo(500));
        Assert.That(row.Operations, Is.EqualTo(100));
        Assert.That(row.P50, Is.GreaterThan(0).And.LessThanOrEqualTo(row.P99));
        Assert.That(row.P99, Is.LessThanOrEqualTo(row.Max));
        Assert.That(JournalBenchmark.Table([row]), Does.Contain("| 500 | 100 |"));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty, "the benchmark removes its journal");
    }
}
