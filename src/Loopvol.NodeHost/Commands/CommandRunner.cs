using System.Diagnostics;
using Loopvol.Core.Errors;

namespace Loopvol.NodeHost.Commands;

/// <summary>
/// The one way the driver runs external programs (mkfs, resize2fs, xfs_growfs): arguments are never parsed by a
/// shell, stdout and stderr are kept, a non-zero exit is <see cref="CommandFailedException"/> with both, and the
/// call's cancellation kills the program.
/// </summary>
public static class CommandRunner
{
    public static async Task<string> RunAsync(string file, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CommandFailedException(file, 127, $"cannot run {file}: {e.Message}");
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var output = await stdout.ConfigureAwait(false);
            var error = await stderr.ConfigureAwait(false);
            return process.ExitCode == 0
                ? output
                : throw new CommandFailedException($"{file} {string.Join(' ', args)}", process.ExitCode,
                    error.Length > 0 ? error : output);
        }
    }
}
