using Loopvol.Core.Ids;

namespace Loopvol.Journal.Model;

/// <summary>One UUID record: the object, the request name that made it, and where it stands.</summary>
public sealed record Reservation(
    ObjectId Id,
    string RequestName,
    string BackendName,
    ReservationState State,
    DateTimeOffset CreatedAt,
    DefiningArguments Arguments,
    long? SizeBytes,
    long Sequence)
{
    /// <summary>When the record last changed state (or size): a delete in flight is recent, an interrupted one old.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The group snapshot this snapshot belongs to, when it is a member of one.</summary>
    public ObjectId? Group { get; init; }

    /// <summary>
    /// False for an empty volume whose image was written without fsync and has held no data since: a crash may
    /// lose that image, and start-up makes it again. True for every other record (docs/durability.md).
    /// </summary>
    public bool ImageDurable { get; init; } = true;
}
