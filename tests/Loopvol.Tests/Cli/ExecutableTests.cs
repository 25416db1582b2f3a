using Loopvol.Csi.V1;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Cli;

public sealed class ExecutableTests
{
    private const int SigTerm = 15;
    private const int SigInt = 2;

    [TestCase(SigTerm)]
    [TestCase(SigInt)]
    public async Task Signal_StopsGracefully_RemovesTheSocket_ExitsZero(int signal)
    {
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"));
        using (var client = new CsiClient(driver.Endpoint))
        {
            var info = await client.UnaryAsync<GetPluginInfoResponse>("Identity", "GetPluginInfo",
                new GetPluginInfoRequest());
            Assert.That(info.Name, Is.EqualTo("loopvol.csi.dev"));
        }

        driver.Signal(signal);
        var exit = await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.That(exit, Is.Zero, driver.Output);
        Assert.That(Loopvol.Core.Native.SocketFiles.Stat(driver.SocketPath), Is.Null, "the socket file must be removed");
        Assert.That(driver.Output, Does.Contain("stopped; socket file"));
    }

    [Test]
    public async Task SecondInstanceOnTheSameDataDirectory_ExitsOne_AndTheFirstKeepsServing()
    {
        using var dir = new TempDirectory();
        await using var first = await DriverProcess.StartAsync(dir.Combine("data"));

        var output = await Processes.RunExpectingFailureAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "loopvol.dll"), "--data-dir", dir.Combine("data")]);

        Assert.That(output.ExitCode, Is.EqualTo(1));
        Assert.That(output.Text, Does.Contain("another loopvol process is using the data directory"));
        using var client = new CsiClient(first.Endpoint);
        var probe = await client.UnaryAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest());
        Assert.That(probe.Ready, Is.True);
    }

    [Test]
    public async Task JsonLogFormat_WritesOneJsonObjectPerLine()
    {
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"), "--log-format", "json");
        driver.Signal(SigTerm);
        await driver.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var lines = driver.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.That(lines, Is.Not.Empty);
        Assert.That(lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("EventId").GetInt32()),
            Does.Contain(1010), "the 'serving' record must be there as JSON");
    }
}
