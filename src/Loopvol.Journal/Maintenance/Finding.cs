namespace Loopvol.Journal.Maintenance;

/// <summary>What kind of problem a journal check found.</summary>
public enum FindingKind
{
    /// <summary>Reserved for longer than the grace period, and its backend object does not exist.</summary>
    StaleReservation,

    /// <summary>Creation failed half way; the record (and anything it left) waits for gc.</summary>
    FaultyRecord,

    /// <summary>A created or deleting record whose backend object is gone.</summary>
    MissingBackend,

    /// <summary>A backend object no record names.</summary>
    OrphanBackend,

    /// <summary>A directory entry whose record is missing.</summary>
    EntryWithoutRecord,

    /// <summary>A live (reserved or created) record that no directory entry points at.</summary>
    RecordWithoutEntry,

    /// <summary>A directory entry and its record disagree on the request name or kind.</summary>
    BackPointerMismatch,

    /// <summary>Two live records claim the same request name.</summary>
    DuplicateName,

    /// <summary>A faulty record still holds its request name.</summary>
    FaultyWithEntry,
}

/// <summary>
/// One problem: its kind, what it concerns, and what gc would do about it. <see cref="Repairable"/> problems gc
/// repairs by itself; the others are reported, never silently fixed.
/// </summary>
public sealed record Finding(FindingKind Kind, string Subject, string Detail, bool Repairable = false)
{
    public override string ToString() => $"{Kind}: {Subject}: {Detail}";
}
