using Loopvol.Bench;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Bench;

public sealed class ControllerBenchmarkTests
{
    [Test]
    public async Task ShortRun_OnXfs_ReportsReflinkCopiesAndBothMeasurements_AndLeavesNothingBehind()
    {
        Privileged.Require();

        var report = await ControllerBenchmark.RunAsync("xfs", 5, 256L << 20, 16L << 20, 2);

        Assert.That(report, Does.Contain("copies by reflink"));
        Assert.That(report, Does.Contain("| CreateVolume+DeleteVolume (64 MiB) | 5 |"));
        Assert.That(report, Does.Contain("| CreateSnapshot (0 GiB volume, 16 MiB data) | 2 |"));
        HostLeaks.AssertNone();
    }
}
