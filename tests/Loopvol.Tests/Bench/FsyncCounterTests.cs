using Loopvol.Bench.Csi;

namespace Loopvol.Tests.Bench;

public sealed class FsyncCounterTests
{
    [Test]
    public void Sum_AddsEverySeriesOfTheCounter_AndNothingElse()
    {
        const string exposition = """
            # TYPE loopvol_fsyncs_total counter
            # HELP loopvol_fsyncs_total Syncs
            loopvol_fsyncs_total{otel_scope_name="Loopvol",target="image"} 3
            loopvol_fsyncs_total{target="directory",note="a } and a space"} 5 1700000000000
            loopvol_fsyncs_total 7
            loopvol_fsyncs_totally_different 100
            other_total{target="journal"} 100
            """;

        Assert.That(FsyncCounter.Sum(exposition), Is.EqualTo(15));
    }

    [Test]
    public void Sum_WithoutTheCounter_IsNull() =>
        Assert.That(FsyncCounter.Sum("# TYPE target_info gauge\ntarget_info{service_name=\"x\"} 1\n"), Is.Null);
}
