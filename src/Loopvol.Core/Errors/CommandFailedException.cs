namespace Loopvol.Core.Errors;

/// <summary>An operating-system command or call failed; keeps what is needed to tell why.</summary>
public sealed class CommandFailedException : LoopvolException
{
    public CommandFailedException(string command, int exitCode, string stderr)
        : base($"{command} failed with exit code {exitCode}: {Trim(stderr)}")
    {
        Command = command;
        ExitCode = exitCode;
        Stderr = stderr;
    }

    public string Command { get; }

    public int ExitCode { get; }

    public string Stderr { get; }

    private static string Trim(string stderr)
    {
        var text = stderr.Trim();
        return text.Length <= 500 ? text : text[..500] + "…";
    }
}
