namespace Loopvol.Core.Errors;

/// <summary>The object named by the request does not exist.</summary>
public sealed class NotFoundException(string message) : LoopvolException(message);

/// <summary>The name is taken by an object made with other arguments.</summary>
public sealed class AlreadyExistsException(string message) : LoopvolException(message);

/// <summary>Not enough room (capacity, devices, ids) to do what was asked.</summary>
public sealed class ResourceExhaustedException(string message) : LoopvolException(message);

/// <summary>The object exists but is in a state that forbids the request (e.g. still in use).</summary>
public sealed class PreconditionFailedException(string message) : LoopvolException(message);

/// <summary>A request argument is malformed; the message names the field.</summary>
public sealed class InvalidArgumentException(string message) : LoopvolException(message);

/// <summary>A requested size or range cannot be honoured.</summary>
public sealed class OutOfRangeException(string message) : LoopvolException(message);

/// <summary>Another operation holds the same name or object; the caller should retry later.</summary>
public sealed class BusyException(string message) : LoopvolException(message)
{
    public override bool IsTransient => true;
}

/// <summary>
/// The operation could not finish as one whole (e.g. a group snapshot's freeze ended before every member was
/// copied) and was undone completely; the same request may succeed if retried.
/// </summary>
public sealed class AbortedException(string message) : LoopvolException(message)
{
    public override bool IsTransient => true;
}

/// <summary>A listing's starting token is not one this driver issued.</summary>
public sealed class StaleTokenException(string message) : LoopvolException(message);

/// <summary>
/// What the call needs is out of reach now (a node's agent is down or unknown); the same call may succeed later.
/// Never a guess that the object does not exist.
/// </summary>
public sealed class UnavailableException(string message) : LoopvolException(message)
{
    public override bool IsTransient => true;
}
