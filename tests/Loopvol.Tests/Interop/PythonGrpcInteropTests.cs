using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Interop;

/// <summary>
/// The running executable driven by Debian's python3-grpcio, a gRPC implementation that shares no code with ours.
/// Debian installs grpcio for /usr/bin/python3, which need not be the python3 first on PATH.
/// </summary>
public sealed class PythonGrpcInteropTests
{
    private const string Python = "/usr/bin/python3";
    private const string Protoc = "/usr/bin/protoc";

    [Test]
    public async Task PythonGrpcio_IdentityRpcsErrorsUnknownMethodAndDeadlines_BehaveAsTheSpecSays()
    {
        Assert.That(File.Exists(Python) && File.Exists(Protoc), Is.True,
            "python3-grpcio and protobuf-compiler must be installed (the README test command installs them)");
        using var dir = new TempDirectory();
        var generated = Directory.CreateDirectory(dir.Combine("gen")).FullName;
        var interop = Path.Combine(AppContext.BaseDirectory, "Interop");
        await Processes.RunAsync(Protoc, [$"-I{interop}", "-I/usr/include", $"--python_out={generated}", "csi.proto"]);
        await using var driver = await DriverProcess.StartAsync(dir.Combine("data"));

        var output = await Processes.RunAsync(Python,
            [Path.Combine(interop, "identity_interop.py"), driver.SocketPath, generated]);
        var results = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("check").GetString()!);

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

    private static string? Code(JsonElement result) => result.GetProperty("code").GetString();
}
