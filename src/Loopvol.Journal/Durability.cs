namespace Loopvol.Journal;

/// <summary>When a write must be on disk.</summary>
public enum Durability
{
    /// <summary>Synced before the call that made it goes on: it survives power loss once the task completes.</summary>
    Durable,

    /// <summary>
    /// Committed and seen by every later read at once, but synced only with the next durable write or checkpoint:
    /// for a write whose loss in a crash the code recovers from (say why at the call).
    /// </summary>
    Deferred,
}
