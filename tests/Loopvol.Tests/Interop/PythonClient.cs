using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Interop;

/// <summary>
/// Debian's python3-grpcio, a gRPC implementation that shares no code with ours, with csi.proto compiled for it by
/// protoc into a directory of its own. Debian installs grpcio for /usr/bin/python3, which need not be the python3
/// first on PATH. A script prints one JSON object a line; <see cref="RunAsync"/> keys them by one property.
/// </summary>
public sealed class PythonClient : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private const string Protoc = "/usr/bin/protoc";

    private readonly TempDirectory _generated = new();

    private PythonClient()
    {
    }

    private static string Interop => Path.Combine(AppContext.BaseDirectory, "Interop");

    public static async Task<PythonClient> CompileAsync()
    {
        Assert.That(File.Exists(Python) && File.Exists(Protoc), Is.True,
            "python3-grpcio and protobuf-compiler must be installed (the README test command installs them)");
        var client = new PythonClient();
        await Processes.RunAsync(Protoc, [$"-I{Interop}", "-I/usr/include", $"--python_out={client._generated.Path}", "csi.proto"]);
        return client;
    }

    /// <summary>Runs Interop/<paramref name="script"/> with the socket, the generated code's directory, then
    /// <paramref name="arguments"/>; its lines by their <paramref name="key"/> property.</summary>
    public async Task<IReadOnlyDictionary<string, JsonElement>> RunAsync(string script, string socket, string key,
        params string[] arguments)
    {
        var output = await Processes.RunAsync(Python, [Path.Combine(Interop, script), socket, _generated.Path, .. arguments]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToDictionary(e => e.GetProperty(key).GetString()!);
    }

    /// <summary>The gRPC status code a script reported for a call.</summary>
    public static string? Code(JsonElement result) => result.GetProperty("code").GetString();

    public void Dispose() => _generated.Dispose();
}
