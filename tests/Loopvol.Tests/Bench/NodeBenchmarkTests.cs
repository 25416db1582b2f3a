using Loopvol.Bench;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Bench;

public sealed class NodeBenchmarkTests
{
    [Test]
    public async Task ShortRun_ReportsBothPairs_AndLeavesNothingBehind()
    {
        Privileged.Require();

        var report = await NodeBenchmark.RunAsync("ext4", 3);

        Assert.That(report, Does.Contain("| NodeStage+NodePublish | 3 |").And.Contain("| NodeUnpublish+NodeUnstage | 3 |"));
        HostLeaks.AssertNone();
    }
}
