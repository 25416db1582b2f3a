using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;
using Microsoft.Data.Sqlite;

namespace Loopvol.Journal;

/// <summary>Request names reserved to UUID records: the directory entry and the record are written together.</summary>
public sealed partial class Journal
{
    private const string RecordColumns =
        "r.seq, r.uuid, r.kind, r.request_name, r.backend_name, r.state, r.created_at, r.updated_at, r.arguments, " +
        "r.size_bytes, (SELECT g.group_uuid FROM group_members g WHERE g.snapshot_id = r.backend_name), r.image_durable";

    /// <summary>
    /// What holds <paramref name="name"/>: nothing, a reservation with equal arguments, or one with other arguments.
    /// A reservation still <c>Reserved</c> whose backend object <paramref name="backendExists"/> says is missing is
    /// stale: it is undone (entry and record, in one transaction) and the name is reported free.
    /// Repeated: returns the same answer (a stale reservation is undone once, then the name is free).
    /// </summary>
    public async Task<CheckResult> CheckAsync(ObjectKind kind, string name, DefiningArguments arguments,
        Func<Reservation, bool> backendExists)
    {
        ArgumentNullException.ThrowIfNull(backendExists);
        var found = Find(kind, name);
        if (found is null)
        {
            return new CheckResult.Free();
        }
        if (found.Arguments.FirstDifference(arguments) is { } difference)
        {
            return new CheckResult.Conflict(found, difference);
        }
        if (found.State == ReservationState.Reserved && !backendExists(found))
        {
            await RemoveAsync(found.Id).ConfigureAwait(false);
            Log.StaleUndone(_options.Logger, found.Id.ToString(), Columns.Text(kind), name);
            return new CheckResult.Free();
        }
        return new CheckResult.Found(found);
    }

    /// <summary>
    /// Reserves <paramref name="name"/> to a new ID: the UUID record, then the directory entry, in one transaction.
    /// Repeated with equal arguments: returns the existing reservation. With other arguments:
    /// <see cref="AlreadyExistsException"/>. <paramref name="durability"/>: a caller that recovers from a lost
    /// reservation (nothing of it reaches a finished name before a later durable write) may defer its sync.
    /// <paramref name="id"/>: the ID to reserve under, when another place chose it (a group across nodes shares one).
    /// </summary>
    public Task<Reservation> ReserveAsync(ObjectKind kind, string name, DefiningArguments arguments,
        Durability durability = Durability.Durable, ObjectId? id = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(arguments);
        return WriteAsync("reserve", db =>
        {
            if (FindIn(db, kind, name) is { } existing)
            {
                return existing.Arguments.FirstDifference(arguments) is { } difference
                    ? throw new AlreadyExistsException(
                        $"{Columns.Text(kind)} '{name}' already exists as {existing.Id} with {difference}")
                    : existing;
            }
            var reserved = id ?? ObjectId.New(kind);
            if (reserved.Kind != kind || GetIn(db, reserved) is not null)
            {
                throw new AlreadyExistsException($"{reserved} is taken");
            }
            var now = Now;
            InsertRecord(db, reserved, name, ReservationState.Reserved, now, arguments, null);
            Fault("reserve.after-record");
            db.Execute("INSERT INTO directory (kind, name, uuid) VALUES ($kind, $name, $uuid)",
                ("$kind", Columns.Text(kind)), ("$name", name), ("$uuid", reserved.Uuid.ToString("D")));
            Fault("reserve.after-entry");
            return FindIn(db, kind, name)!;
        }, durability);
    }

    /// <summary>
    /// Records that the backend object exists, with its size, and whether its image is on disk yet
    /// (<see cref="Reservation.ImageDurable"/>; false only for an empty volume, see <see cref="MarkImageDurableAsync"/>).
    /// Repeated: no change. Throws <see cref="NotFoundException"/> for an unknown ID and
    /// <see cref="PreconditionFailedException"/> for an object being deleted or marked faulty.
    /// </summary>
    public Task<Reservation> MarkCreatedAsync(ObjectId id, long sizeBytes, bool imageDurable = true) =>
        WriteAsync("mark-created", db =>
    {
        var record = GetIn(db, id) ?? throw new NotFoundException($"{id} does not exist");
        switch (record.State)
        {
            case ReservationState.Created:
                return record;
            case ReservationState.Reserved:
                db.Execute("UPDATE records SET state = 'created', size_bytes = $size, image_durable = $durable, " +
                           "updated_at = $now WHERE uuid = $uuid",
                    ("$size", sizeBytes), ("$durable", imageDurable ? 1 : 0), ("$now", Now), ("$uuid", id.Uuid.ToString("D")));
                Fault("mark-created.after-update");
                return GetIn(db, id)!;
            default:
                throw new PreconditionFailedException($"{id} is {Columns.Text(record.State)}, so it cannot be created");
        }
    });

    /// <summary>
    /// Marks a reservation whose creation failed half way as faulty and frees its request name (the directory
    /// entry goes, the record stays), so a retry gets a new ID and the old one is never reused. Repeated: no change.
    /// A created or unknown object is left alone.
    /// </summary>
    public Task MarkFaultyAsync(ObjectId id) => WriteAsync("mark-faulty", db =>
    {
        if (GetIn(db, id) is not { State: ReservationState.Reserved })
        {
            return 0;
        }
        db.Execute("DELETE FROM directory WHERE uuid = $uuid", ("$uuid", id.Uuid.ToString("D")));
        Fault("mark-faulty.after-entry");
        db.Execute("UPDATE records SET state = 'faulty', updated_at = $now WHERE uuid = $uuid",
            ("$now", Now), ("$uuid", id.Uuid.ToString("D")));
        Log.MarkedFaulty(_options.Logger, id.ToString());
        return 1;
    });

    /// <summary>
    /// Marks an object as being deleted, before its backend object is removed, and frees its request name (the
    /// directory entry goes, the record stays until <see cref="RemoveAsync"/> or <see cref="RemoveDeletedAsync"/>), so the
    /// same name may be created again at once, as a new object. Repeated: no change. Returns the record, or null for
    /// an unknown ID (deleting what does not exist is success).
    /// </summary>
    public Task<Reservation?> MarkDeletingAsync(ObjectId id) => WriteAsync("mark-deleting", db =>
    {
        var record = GetIn(db, id);
        if (record is { State: ReservationState.Reserved or ReservationState.Created })
        {
            db.Execute("DELETE FROM directory WHERE uuid = $uuid", ("$uuid", id.Uuid.ToString("D")));
            db.Execute("UPDATE records SET state = 'deleting', updated_at = $now WHERE uuid = $uuid",
                ("$now", Now), ("$uuid", id.Uuid.ToString("D")));
            Fault("mark-deleting.after-update");
            return GetIn(db, id);
        }
        return record;
    });

    /// <summary>
    /// Removes an object from the journal in the reverse order of its creation: its group mappings, its directory
    /// entry, then its record, in one transaction. Called to undo a reservation, and after a backend object is
    /// deleted. Repeated, or for an unknown ID: does nothing and returns false.
    /// </summary>
    public Task<bool> RemoveAsync(ObjectId id) => WriteAsync("remove", db =>
    {
        var uuid = id.Uuid.ToString("D");
        db.Execute("DELETE FROM group_members WHERE group_uuid = $uuid", ("$uuid", uuid));
        db.Execute("DELETE FROM directory WHERE uuid = $uuid", ("$uuid", uuid));
        Fault("remove.after-entry");
        return db.Execute("DELETE FROM records WHERE uuid = $uuid", ("$uuid", uuid)) > 0;
    });

    /// <summary>Sets the size of a created object (expansion). Repeated: no change. Unknown: NotFound.</summary>
    public Task<Reservation> UpdateSizeAsync(ObjectId id, long sizeBytes) => WriteAsync("update-size", db =>
    {
        var changed = db.Execute("UPDATE records SET size_bytes = $size, updated_at = $now WHERE uuid = $uuid AND state = 'created'",
            ("$size", sizeBytes), ("$now", Now), ("$uuid", id.Uuid.ToString("D")));
        return changed > 0 ? GetIn(db, id)! : throw new NotFoundException($"{id} does not exist");
    });

    /// <summary>The record of <paramref name="id"/>, in any state; null when unknown.</summary>
    public Reservation? Get(ObjectId id) => Read(db => GetIn(db, id));

    /// <summary>The record the directory holds for a request name; null when the name is free.</summary>
    public Reservation? Find(ObjectKind kind, string name) => Read(db => FindIn(db, kind, name));

    private static Reservation? GetIn(Db db, ObjectId id) =>
        db.Query($"SELECT {RecordColumns} FROM records r WHERE r.uuid = $uuid AND r.kind = $kind", ReadRecord,
            ("$uuid", id.Uuid.ToString("D")), ("$kind", Columns.Text(id.Kind))).SingleOrDefault();

    private static Reservation? FindIn(Db db, ObjectKind kind, string name) =>
        db.Query($"SELECT {RecordColumns} FROM directory d JOIN records r ON r.uuid = d.uuid " +
                 "WHERE d.kind = $kind AND d.name = $name", ReadRecord,
            ("$kind", Columns.Text(kind)), ("$name", name)).SingleOrDefault();

    /// <summary>
    /// Inserts a record. The defining arguments are stored once, in their versioned form; required_bytes and
    /// source_volume are copies of two of their parts that queries need as columns.
    /// </summary>
    private static void InsertRecord(Db db, ObjectId id, string name, ReservationState state, long createdAt,
        DefiningArguments arguments, long? sizeBytes) => db.Execute(
        """
        INSERT INTO records (uuid, kind, request_name, backend_name, state, created_at, updated_at, required_bytes,
            arguments, source_volume, size_bytes)
        VALUES ($uuid, $kind, $name, $backend, $state, $created, $created, $required, $arguments, $volume, $size)
        """,
        ("$uuid", id.Uuid.ToString("D")), ("$kind", Columns.Text(id.Kind)), ("$name", name),
        ("$backend", id.ToString()), ("$state", Columns.Text(state)), ("$created", createdAt),
        ("$required", arguments.RequiredBytes), ("$arguments", DefiningArgumentsJson.Serialize(arguments)),
        ("$volume", arguments.SourceVolume?.ToString()), ("$size", sizeBytes));

    internal static Reservation ReadRecord(SqliteDataReader r)
    {
        var kind = Columns.Kind(r.GetString(2));
        var uuid = r.GetString(1);
        DefiningArguments arguments;
        try
        {
            arguments = DefiningArgumentsJson.Parse(r.GetString(8));
        }
        catch (FormatException e)
        {
            throw new JournalException($"record {uuid} holds defining arguments that cannot be read: {e.Message}", e);
        }
        return new Reservation(
            new ObjectId(kind, Guid.ParseExact(uuid, "D")),
            r.GetString(3),
            r.GetString(4),
            Columns.State(r.GetString(5)),
            Columns.Time(r.GetInt64(6)),
            arguments,
            r.IsDBNull(9) ? null : r.GetInt64(9),
            r.GetInt64(0))
        {
            UpdatedAt = Columns.Time(r.GetInt64(7)),
            Group = r.IsDBNull(10) ? null : new ObjectId(ObjectKind.Group, Guid.ParseExact(r.GetString(10), "D")),
            ImageDurable = r.GetInt64(11) != 0,
        };
    }
}
