using System.Diagnostics;

namespace Loopvol.Tests.Support;

/// <summary>Runs helper programs from tests and fails with their output when they fail.</summary>
public static class Processes
{
    /// <summary>
    /// <see cref="RunAsync"/>, blocking: for code that must finish before it returns, such as a fault point the driver
    /// reaches synchronously.
    /// </summary>
    public static string Run(string file, params string[] args) => RunAsync(file, args).GetAwaiter().GetResult();

    public static async Task<string> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{file} exited {process.ExitCode}\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }
        return await stdout;
    }

    /// <summary>Runs a program that is expected to fail; returns its exit code and all it printed.</summary>
    public static async Task<(int ExitCode, string Text)> RunExpectingFailureAsync(string file, IEnumerable<string> args,
        TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        return (process.ExitCode, await stdout + await stderr);
    }
}
