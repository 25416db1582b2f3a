namespace Loopvol.Csi.Transport.Tls;

/// <summary>
/// A TLS file that cannot be used: missing, unreadable, not PEM, a key that does not match its certificate, a
/// certificate out of its validity, a CA bundle without a CA. The message names the file and what is wrong. An
/// <see cref="IOException"/>, so a host that reports a bad file at start reports this one the same way.
/// </summary>
public sealed class TlsFileException : IOException
{
    public TlsFileException(string role, string path, string problem, Exception? inner = null)
        : base($"{role} {path}: {problem}", inner)
    {
        Role = role;
        FilePath = path;
        Problem = problem;
    }

    /// <summary>Which of the files it is: <c>TLS certificate</c>, <c>TLS key</c> or <c>TLS CA bundle</c>.</summary>
    public string Role { get; }

    /// <summary>The file's path, as it was given.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the role and path.</summary>
    public string Problem { get; }
}
