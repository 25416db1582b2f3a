using static Loopvol.Tests.Interop.PythonClient;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Interop;

/// <summary>
/// The running executable driven by Debian's python3-grpcio (<see cref="PythonClient"/>).
/// </summary>
public sealed class PythonGrpcInteropTests
{
    [Test]
    public async Task PythonGrpcio_IdentityRpcsErrorsUnknownMethodAndDeadlines_BehaveAsTheSpecSays()
    {
        using var python = await PythonClient.CompileAsync();
        using var dir = new TempDirectory();
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"));

        var results = await python.RunAsync("identity_interop.py", driver.SocketPath, "check");

        Assert.Multiple(() =>
        {
            Assert.That(Code(results["GetPluginInfo"]), Is.EqualTo("OK"));
            Assert.That(results["GetPluginInfo"].GetProperty("name").GetString(), Is.EqualTo("loopvol.csi.dev"));
            Assert.That(results["GetPluginInfo"].GetProperty("vendor_version").GetString(), Is.Not.Empty);
            Assert.That(Code(results["GetPluginCapabilities"]), Is.EqualTo("OK"));
            Assert.That(Code(results["Probe"]), Is.EqualTo("OK"));
            Assert.That(results["Probe"].GetProperty("ready").GetBoolean(), Is.True);
            Assert.That(Code(results["UnknownMethod"]), Is.EqualTo("UNIMPLEMENTED"));
            Assert.That(results["UnknownMethod"].GetProperty("detail").GetString(), Does.Contain("NoSuchMethod"));
            Assert.That(Code(results["InvalidCreateVolume"]), Is.EqualTo("INVALID_ARGUMENT"));
            Assert.That(results["InvalidCreateVolume"].GetProperty("detail").GetString(), Does.Contain("volume_capabilities"));
            Assert.That(Code(results["GenerousDeadline"]), Is.EqualTo("OK"));
            Assert.That(Code(results["BlockedUntilDeadline"]), Is.EqualTo("DEADLINE_EXCEEDED"));
            Assert.That(results["BlockedUntilDeadline"].GetProperty("seconds").GetDouble(), Is.LessThan(5),
                "the call must end at its deadline, not when the client gives up sending");
        });
        Assert.That(driver.HasExited, Is.False, driver.Output);
    }
}
