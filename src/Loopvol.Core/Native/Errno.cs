using System.Runtime.InteropServices;
using Loopvol.Core.Errors;

namespace Loopvol.Core.Native;

/// <summary>Turns a failed system call into an exception that says which call, on what, and why.</summary>
public static class Errno
{
    public const int ENOENT = 2;
    public const int EXDEV = 18;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ENXIO = 6;
    public const int EOPNOTSUPP = 95;
    public const int EBUSY = 16;
    public const int EFBIG = 27;
    public const int EDQUOT = 122;
    public const int ERANGE = 34;
    public const int ENODATA = 61;
    public const int EEXIST = 17;
    public const int ENOTEMPTY = 39;
    public const int ENOTTY = 25;
    public const int ELOOP = 40;

    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>
    /// An exception for the call that just failed: no space (ENOSPC, or EDQUOT, a quota) is resource exhaustion, the
    /// rest an OS failure.
    /// </summary>
    public static Exception Failure(string call, string subject, int errno)
    {
        var text = $"{call} on {subject} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return IsNoSpace(errno) ? new ResourceExhaustedException(text) : new CommandFailedException(call, errno, text);
    }

    /// <summary>The file system (or the caller's quota on it) has no room left.</summary>
    public static bool IsNoSpace(int errno) => errno is ENOSPC or EDQUOT;

    /// <summary>
    /// Whether a .NET file operation failed for lack of space: on Linux its <see cref="IOException"/> carries the
    /// errno as its HResult.
    /// </summary>
    public static bool IsNoSpace(IOException exception) => IsNoSpace(exception.HResult);

    /// <summary>Throws <see cref="Failure"/> when <paramref name="result"/> is negative.</summary>
    public static long Check(long result, string call, string subject) =>
        result >= 0 ? result : throw Failure(call, subject, Last);
}
