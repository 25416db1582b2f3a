namespace Loopvol.Journal.Model;

/// <summary>
/// Which side is ahead, the journal or the backend object: <c>Reserved</c> (journal written, object maybe not yet),
/// <c>Created</c> (both exist), <c>Deleting</c> (the object is being removed), <c>Faulty</c> (creation failed half
/// way; the record keeps the ID out of use until garbage collection removes it and whatever it left).
/// </summary>
public enum ReservationState
{
    Reserved,
    Created,
    Deleting,
    Faulty,
}
