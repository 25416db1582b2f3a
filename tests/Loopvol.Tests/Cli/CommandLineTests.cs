using Loopvol.Cli;
using Loopvol.Hosting;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Cli;

public sealed class CommandLineTests
{
    [TestCase(new[] { "--bogus" }, "--bogus")]
    [TestCase(new[] { "--endpoint", "csi.sock" }, "--endpoint")]
    [TestCase(new[] { "--endpoint", "tcp://host" }, "--endpoint")]
    [TestCase(new[] { "--log-level", "loud" }, "--log-level")]
    [TestCase(new[] { "--log-format", "xml" }, "--log-format")]
    [TestCase(new[] { "--drivername", "-bad-" }, "--drivername")]
    [TestCase(new[] { "--nodeid", "" }, "--nodeid")]
    [TestCase(new[] { "--data-dir", "relative/dir" }, "--data-dir")]
    [TestCase(new[] { "--max-message-size", "abc" }, "--max-message-size")]
    [TestCase(new[] { "--shutdown-timeout", "-1" }, "--shutdown-timeout")]
    [TestCase(new[] { "--metrics-address", "9808" }, "--metrics-address")]
    [TestCase(new[] { "--metrics-address", "metrics.example.org:9808" }, "--metrics-address")]
    public async Task UsageError_ExitsTwo_AndNamesTheFlag(string[] args, string flag)
    {
        using var error = new StringWriter();

        var exit = await LoopvolCommand.RunAsync(args, TextWriter.Null, error);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain(flag));
    }

    [Test]
    public async Task NoFlags_GiveTheEmbeddedDefaults()
    {
        var seen = await ParseAsync();

        Assert.That(seen.Endpoint.SocketPath, Is.EqualTo("/var/lib/loopvol/csi.sock"));
        Assert.That(seen.DataDirectory, Is.EqualTo("/var/lib/loopvol"));
        Assert.That(seen.DriverName, Is.EqualTo("loopvol.csi.dev"));
        Assert.That(seen.NodeId, Is.EqualTo(Environment.MachineName));
        Assert.That(seen.LogLevel, Is.EqualTo(LogLevel.Information));
        Assert.That(seen.JsonLogs, Is.False);
        Assert.That(seen.MaxMessageSize, Is.EqualTo(4 * 1024 * 1024));
        Assert.That(seen.MetricsAddress, Is.Null, "no metrics listener unless asked for");
    }

    [Test]
    public async Task EveryFlag_ReachesTheSettings()
    {
        var seen = await ParseAsync(
            "--endpoint", "tcp://127.0.0.1:7000", "--nodeid", "worker-3", "--drivername", "x.example.org",
            "--data-dir", "/srv/lv", "--log-level", "debug", "--log-format", "json", "--max-message-size", "65536",
            "--shutdown-timeout", "3", "--metrics-address", "127.0.0.1:9808", "--max-freeze", "4");

        Assert.That(seen, Is.EqualTo(new DriverSettings
        {
            Endpoint = Loopvol.Csi.Transport.GrpcEndpoint.Tcp("127.0.0.1", 7000),
            NodeId = "worker-3",
            DriverName = "x.example.org",
            DataDirectory = "/srv/lv",
            LogLevel = LogLevel.Debug,
            JsonLogs = true,
            MaxMessageSize = 65536,
            ShutdownTimeout = TimeSpan.FromSeconds(3),
            MetricsAddress = MetricsAddress.Parse("127.0.0.1:9808"),
            MaxFreeze = TimeSpan.FromSeconds(4),
        }));
    }

    [Test]
    public async Task DataDirWithoutEndpoint_PutsTheSocketInTheDataDir()
    {
        var seen = await ParseAsync("--data-dir", "/srv/lv");

        Assert.That(seen.Endpoint.SocketPath, Is.EqualTo("/srv/lv/csi.sock"));
    }

    /// <summary>The settings the command line hands to the driver for <paramref name="args"/>.</summary>
    private static async Task<DriverSettings> ParseAsync(params string[] args)
    {
        DriverSettings? seen = null;
        var exit = await LoopvolCommand.Create(s =>
        {
            seen = s;
            return Task.FromResult(0);
        }).Parse(args).InvokeAsync();
        Assert.That(exit, Is.Zero);
        return seen!;
    }
}
