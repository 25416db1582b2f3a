using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Grpc.Core;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;

namespace Loopvol.Tests.Support;

/// <summary>The real loopvol executable in a child process, on a temp data directory and socket.</summary>
public sealed partial class DriverProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DriverProcess(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
        SocketPath = Path.Combine(dataDirectory, "csi.sock");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }

    public string SocketPath { get; }

    public GrpcEndpoint Endpoint => GrpcEndpoint.Unix(SocketPath);

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the driver with its data directory (and so its socket) under <paramref name="dataDirectory"/>.</summary>
    public static Task<DriverProcess> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartAsync(dataDirectory, new Dictionary<string, string>(), extraArgs);

    /// <summary>Starts the driver with extra environment variables (e.g. the test-only crash point).</summary>
    public static Task<DriverProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment,
        params string[] extraArgs) => StartAsync(dataDirectory, environment, privateMounts: false, extraArgs);

    /// <summary>
    /// Starts the driver in a private mount namespace of its own (unshare(1) execs it, so the PID is the driver's):
    /// whatever it mounts is seen only in <see cref="MountInfoPath"/> and is gone when it exits. For tests that
    /// try to make it mount over system directories.
    /// </summary>
    public static Task<DriverProcess> StartInPrivateMountNamespaceAsync(string dataDirectory, params string[] extraArgs) =>
        StartAsync(dataDirectory, new Dictionary<string, string>(), privateMounts: true, extraArgs);

    /// <summary>The driver's own view of the mount table.</summary>
    public string MountInfoPath => $"/proc/{_process.Id}/mountinfo";

    private static async Task<DriverProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment,
        bool privateMounts, string[] extraArgs)
    {
        var info = new ProcessStartInfo(privateMounts ? "unshare" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (privateMounts)
        {
            info.ArgumentList.Add("--mount");
            info.ArgumentList.Add("--propagation=private");
            info.ArgumentList.Add("dotnet");
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "loopvol.dll"));
        info.ArgumentList.Add("--data-dir");
        info.ArgumentList.Add(dataDirectory);
        foreach (var arg in extraArgs)
        {
            info.ArgumentList.Add(arg);
        }
        var driver = new DriverProcess(Process.Start(info)!, dataDirectory);
        try
        {
            await driver.WaitUntilServingAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await driver.DisposeAsync(); // Never leave a driver running that no test will stop.
            throw;
        }
        return driver;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var client = new CsiClient(Endpoint);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"loopvol exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                await client.UnaryAsync<ProbeResponse>("Identity", "Probe", new ProbeRequest(), TimeSpan.FromSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
