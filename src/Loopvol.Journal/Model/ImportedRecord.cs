using Loopvol.Core.Ids;

namespace Loopvol.Journal.Model;

/// <summary>
/// A record made again from elsewhere (the pool's images, by <c>journal rebuild</c>): everything a reservation
/// holds, with its original ID and creation time. A group carries its members (volume ID → snapshot ID).
/// </summary>
public sealed record ImportedRecord(ObjectId Id, string RequestName, ReservationState State, DateTimeOffset CreatedAt,
    DefiningArguments Arguments, long? SizeBytes)
{
    public IReadOnlyDictionary<string, string>? Members { get; init; }

    /// <summary>The Kubernetes objects it was made for, when its image said.</summary>
    public IReadOnlyDictionary<string, string> Kubernetes { get; init; } = new Dictionary<string, string>();
}

/// <summary>What a journal file holds, as far as whether it may be replaced goes.</summary>
public enum JournalContents
{
    /// <summary>There is no journal file.</summary>
    Missing,

    /// <summary>The file exists but holds no record: zero bytes, a database without tables, or tables without rows.</summary>
    Empty,

    /// <summary>The file holds at least one record.</summary>
    Records,
}
