namespace Loopvol.Journal;

/// <summary>The journal file cannot be used as it is: written by a newer schema, corrupt, or unreadable.</summary>
public sealed class JournalException(string message, Exception? inner = null) : Exception(message, inner);
