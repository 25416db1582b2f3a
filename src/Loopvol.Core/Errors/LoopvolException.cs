namespace Loopvol.Core.Errors;

/// <summary>
/// The base of the domain's typed errors. Each subclass stands for one outcome the CSI layer answers with one
/// status code; anything else that escapes the domain is a bug, answered as INTERNAL.
/// </summary>
public abstract class LoopvolException : Exception
{
    protected LoopvolException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>True when the same request may succeed if simply retried later.</summary>
    public virtual bool IsTransient => false;
}
