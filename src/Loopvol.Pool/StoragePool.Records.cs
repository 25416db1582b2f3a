using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>
/// The record each image carries (<see cref="ImageRecords"/>): made from the journal's record, checked before a
/// create; and whether the pool holds an object at all.
/// </summary>
public sealed partial class StoragePool
{
    /// <summary>Whether this pool holds <paramref name="id"/>: reserved or created (an object being deleted is gone).</summary>
    public bool Holds(ObjectId id) => journal.Get(id) is { State: ReservationState.Reserved or ReservationState.Created };

    /// <summary>Whether a request <paramref name="name"/> of <paramref name="kind"/> is reserved here (reserved or created).</summary>
    public bool HoldsName(ObjectKind kind, string name) =>
        journal.Find(kind, name) is { State: ReservationState.Reserved or ReservationState.Created };

    /// <summary>The record an image of <paramref name="record"/> carries; a group member's names its group.</summary>
    public static PortableRecord Portable(Reservation record, PortableGroup? group = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new PortableRecord(record.Id, record.RequestName, record.CreatedAt, record.Arguments) { Group = group };
    }

    /// <summary>
    /// Writes the record on every image of a created object that carries none (images made before records were
    /// carried). Run at start, with the pool locked. Repeated: no change. Returns how many were written.
    /// </summary>
    public int RecordMissingImageRecords()
    {
        var written = 0;
        foreach (var record in journal.All().Where(r => r.State == ReservationState.Created && r.Id.Kind != ObjectKind.Group))
        {
            var path = images.Layout.ImagePath(record.BackendName);
            if (!File.Exists(path) || CarriesARecord(path))
            {
                continue;
            }
            ImageRecords.Write(path, Portable(record, record.Group is { } group ? PortableGroupOf(group) : null));
            written++;
        }
        return written;
    }

    /// <summary>True when the image carries a record, readable or not (one this code cannot read is never overwritten).</summary>
    private static bool CarriesARecord(string path)
    {
        try
        {
            return ImageRecords.Read(path) is not null;
        }
        catch (FormatException)
        {
            return true;
        }
    }

    /// <summary>Checks, before anything is made, that the record of a request fits on its image.</summary>
    private static void EnsureRecordFits(ObjectKind kind, string name, DefiningArguments arguments, PortableGroup? group = null) =>
        ImageRecords.Encode(new PortableRecord(ObjectId.New(kind), name, DateTimeOffset.UtcNow, arguments) { Group = group });

    /// <summary>Checks, before anything is made, that a member of a group snapshot named <paramref name="name"/> can carry its record.</summary>
    private static void EnsureMemberRecordFits(string name, int members) => EnsureRecordFits(ObjectKind.Snapshot,
        $"{ObjectId.New(ObjectKind.Group)}/{ObjectId.New(ObjectKind.Volume)}",
        new DefiningArguments { SourceVolume = ObjectId.New(ObjectKind.Volume) },
        new PortableGroup(ObjectId.New(ObjectKind.Group), name, DateTimeOffset.UtcNow, members));

    private PortableGroup? PortableGroupOf(ObjectId group) => journal.Get(group) is { } record
        ? new PortableGroup(record.Id, record.RequestName, record.CreatedAt, journal.Members(group).Count)
        : null;
}
