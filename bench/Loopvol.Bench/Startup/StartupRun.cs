using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Grpc.Core;
using Loopvol.Csi.Transport;
using Loopvol.Csi.V1;

namespace Loopvol.Bench.Startup;

/// <summary>What one start of a driver measured.</summary>
internal sealed record StartupSample(double ToProbeMs, long IdleRssBytes, double StopMs, bool KilledHard);

/// <summary>
/// One start of a driver in a fresh scratch directory: exec, poll its socket with Identity.Probe until it answers,
/// let it settle and read its resident set, then SIGTERM it (SIGKILL after a timeout) and remove the directory.
/// </summary>
internal static partial class StartupRun
{
    private const int SigTerm = 15;

    public static async Task<StartupSample> RunAsync(StartupDriver driver, StartupOptions options, CancellationToken ct)
    {
        var scratch = Path.Combine(options.WorkDirectory, $"s-{Guid.NewGuid():N}"[..10]);
        var dir = Directory.CreateDirectory(Path.Combine(scratch, "data")).FullName;
        var socket = Path.Combine(scratch, "csi.sock");
        var (program, arguments) = driver.Expand(socket, dir);
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = scratch,
        };
        arguments.ToList().ForEach(info.ArgumentList.Add);
        var output = new OutputTail(20);
        try
        {
            var clock = Stopwatch.StartNew();
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
            output.Follow(process);
            try
            {
                await WaitForProbeAsync(process, socket, output, options, ct);
                var toProbe = clock.Elapsed;
                await Task.Delay(options.SettleTime, ct);
                var rss = ResidentBytes(process.Id);
                var (stop, killed) = await StopAsync(process, options.StopTimeout);
                return new StartupSample(toProbe.TotalMilliseconds, rss, stop.TotalMilliseconds, killed);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task WaitForProbeAsync(Process process, string socket, OutputTail output, StartupOptions options,
        CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        using var channel = CsiChannel.Create(GrpcEndpoint.Unix(socket));
        var identity = new Identity.IdentityClient(channel);
        while (true)
        {
            if (process.HasExited)
            {
                throw new StartupException($"exited with {process.ExitCode} before answering Probe{output.Describe()}");
            }
            if (deadline.Elapsed > options.ProbeTimeout)
            {
                throw new StartupException($"did not answer Probe within {options.ProbeTimeout.TotalSeconds:F0} s{output.Describe()}");
            }
            if (File.Exists(socket))
            {
                try
                {
                    var answer = await identity.ProbeAsync(new ProbeRequest(),
                        deadline: DateTime.UtcNow + TimeSpan.FromSeconds(5), cancellationToken: ct);
                    if (answer.Ready is null or true)
                    {
                        return;
                    }
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    // Bound but not listening yet, or not ready to answer: poll again.
                }
            }
            await Task.Delay(options.PollInterval, ct);
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="timeout"/>.</summary>
    private static async Task<(TimeSpan Stop, bool Killed)> StopAsync(Process process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        if (Kill(process.Id, SigTerm) != 0 && !process.HasExited)
        {
            throw new StartupException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(wait.Token);
            return (clock.Elapsed, false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return (clock.Elapsed, true);
        }
    }

    /// <summary>VmRSS of <paramref name="pid"/>, from /proc/PID/status.</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new StartupException($"/proc/{pid}/status has no VmRSS (the process has exited)");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The last lines a driver wrote, kept to explain a failed start.</summary>
    private sealed class OutputTail(int lines)
    {
        private readonly Queue<string> _lines = new();

        public void Follow(Process process)
        {
            process.OutputDataReceived += (_, e) => Add(e.Data);
            process.ErrorDataReceived += (_, e) => Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Describe()
        {
            lock (_lines)
            {
                return _lines.Count == 0 ? "" : "; its last output:\n  " + string.Join("\n  ", _lines);
            }
        }

        private void Add(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > lines)
                {
                    _lines.Dequeue();
                }
            }
        }
    }
}

/// <summary>A driver that did not start, answer or stop as a run needs.</summary>
internal sealed class StartupException(string message) : Exception(message);
