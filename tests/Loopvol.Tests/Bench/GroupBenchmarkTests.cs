using System.Text.RegularExpressions;
using Loopvol.Bench;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Bench;

public sealed partial class GroupBenchmarkTests
{
    [Test]
    public async Task ShortRun_ReportsAMeasuredWindowForEverySize_AndLeavesNothingBehind()
    {
        Privileged.Require();

        var report = await GroupBenchmark.RunAsync([2, 4], 2);

        var rows = Row().Matches(report).Select(m => (Volumes: m.Groups[1].Value, Nodes: m.Groups[2].Value, P50: double.Parse(m.Groups[3].Value,
            System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Assert.That(rows.Select(r => (r.Volumes, r.Nodes)), Is.EqualTo(new[] { ("2", "2"), ("4", "3") }), report);
        Assert.That(rows.Select(r => r.P50), Has.All.GreaterThan(0), "every window was measured from the agents' own freezes");
        HostLeaks.AssertNone();
    }

    [GeneratedRegex(@"^\| (\d+) \| (\d+) \| ([0-9.]+) \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
