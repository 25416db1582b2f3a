using Loopvol.Bench.Startup;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Bench;

public sealed class StartupBenchmarkTests
{
    [Test]
    public async Task TwoRuns_OfOurDriver_ReportTwoSamplesWithTimeAndRss_AndLeaveNothingBehind()
    {
        using var dir = new TempDirectory();
        var options = new StartupOptions { Runs = 2, Warmup = 0, SettleTime = TimeSpan.FromMilliseconds(200), WorkDirectory = dir.Path };

        var results = await StartupBenchmark.RunAsync([StartupDriver.Loopvol], options, default);

        var result = results.Single();
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Samples, Has.Count.EqualTo(2));
        Assert.That(result.Samples, Has.All.Matches<StartupSample>(s => s.ToProbeMs > 0 && s.IdleRssBytes > 1 << 20 && s.StopMs > 0));
        Assert.That(result.Samples.Count(s => s.KilledHard), Is.Zero, "loopvol exits on SIGTERM");
        Assert.That(StartupResult.Table(results), Does.Contain("| loopvol | 2 | "));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty, "every run's scratch directory is removed");
    }

    [Test]
    public async Task ADriverThatExitsAtOnce_IsAReportedFailure_NotAHang()
    {
        using var dir = new TempDirectory();
        var quits = StartupDriver.Parse("quits=/bin/sh -c 'echo no socket for me; exit 3' sh {socket}");

        var results = await StartupBenchmark.RunAsync([quits], new StartupOptions { Runs = 1, Warmup = 0, WorkDirectory = dir.Path }, default);

        Assert.That(results.Single().Samples, Is.Empty);
        Assert.That(results.Single().Failures.Single(), Does.Contain("exited with 3 before answering Probe"));
        Assert.That(StartupResult.Table(results), Does.Contain("| quits | 0 (1 failed) |"));
    }

    [Test]
    public void Spec_FillsPlaceholdersPerRun_AndKeepsQuotedWordsWhole()
    {
        var driver = StartupDriver.Parse("hp=/bin/plugin -endpoint unix://{socket} -statedir {dir} -name 'a b'");

        var (program, arguments) = driver.Expand("/s/csi.sock", "/s/data");

        Assert.That(driver.Label, Is.EqualTo("hp"));
        Assert.That(program, Is.EqualTo("/bin/plugin"));
        Assert.That(arguments, Is.EqualTo(new[] { "-endpoint", "unix:///s/csi.sock", "-statedir", "/s/data", "-name", "a b" }));
    }

    [Test]
    public void DefaultSpec_StartsThisBuildsLoopvol()
    {
        var (program, arguments) = StartupDriver.Loopvol.Expand("/s/csi.sock", "/s/data");

        Assert.That(Path.GetFileName(program), Is.EqualTo("loopvol").Or.EqualTo("dotnet"));
        Assert.That(arguments, Does.Contain("unix:///s/csi.sock").And.Contain("/s/data"));
    }

    [TestCase("no label at all {socket}")]
    [TestCase("=/bin/plugin {socket}")]
    [TestCase("x=")]
    [TestCase("x=/bin/plugin --endpoint {sock}")]
    [TestCase("x=/bin/plugin --data-dir {dir}")]
    [TestCase("x=/bin/plugin {socket} {loopvol}")]
    [TestCase("x=/bin/plugin 'unbalanced {socket}")]
    public void MalformedSpec_IsRefused(string spec) =>
        Assert.That(() => StartupDriver.Parse(spec), Throws.TypeOf<FormatException>());
}
