using System.Globalization;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;

namespace Loopvol.Journal;

/// <summary>Paged listings of created objects, answered from the journal alone.</summary>
public sealed partial class Journal
{
    /// <summary>
    /// Created objects of <paramref name="kind"/> in creation order, <paramref name="maxEntries"/> at most (0 means
    /// all), after <paramref name="startingToken"/>. Tokens are positions in creation order, so paging is stable while
    /// objects come and go: nothing listed is listed twice, and objects deleted meanwhile are simply absent.
    /// A token this journal did not issue is <see cref="StaleTokenException"/>.
    /// </summary>
    public Page<Reservation> List(ObjectKind kind, string? startingToken, int maxEntries, ListFilter? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        var after = ParseToken(startingToken);
        filter ??= new ListFilter();
        var limit = maxEntries == 0 ? -1 : maxEntries + 1;
        var rows = Read(db => db.Query(
            $"SELECT {RecordColumns} FROM records r WHERE r.kind = $kind AND r.state = 'created' AND r.seq > $after " +
            "AND ($id IS NULL OR r.uuid = $id) AND ($source IS NULL OR r.source_volume = $source) " +
            "ORDER BY r.seq LIMIT $limit",
            ReadRecord,
            ("$kind", Columns.Text(kind)), ("$after", after), ("$id", filter.Id?.Uuid.ToString("D")),
            ("$source", filter.SourceVolume), ("$limit", limit)));
        if (maxEntries == 0 || rows.Count <= maxEntries)
        {
            return new Page<Reservation>(rows, "");
        }
        rows.RemoveAt(rows.Count - 1);
        return new Page<Reservation>(rows, rows[^1].Sequence.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>How many objects of a kind are in each state.</summary>
    public IReadOnlyDictionary<ReservationState, long> Count(ObjectKind kind) => Read(db =>
        db.Query("SELECT state, count(*) FROM records WHERE kind = $kind GROUP BY state",
                r => (Columns.State(r.GetString(0)), r.GetInt64(1)), ("$kind", Columns.Text(kind)))
            .ToDictionary(p => p.Item1, p => p.Item2));

    /// <summary>
    /// The capacity promised to volumes: the size of each created one, and the requested size of each still
    /// reserved. Faulty records promise nothing, and neither do records being deleted: their delete has answered
    /// (the record goes a moment later, docs/durability.md).
    /// </summary>
    public long ProvisionedBytes() => ProvisionedBytes([], []).Total;

    /// <summary>
    /// <see cref="ProvisionedBytes()"/>, and the part of it thick volumes reserve on the pool's file system, without
    /// the volumes of <paramref name="names"/> (request names) and of <paramref name="ids"/>: those a caller counts
    /// itself while their writes are in flight. One scan for both.
    /// </summary>
    public (long Total, long Thick) ProvisionedBytes(IReadOnlyCollection<string> names, IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(ids);
        var args = names.Select((n, i) => ($"$n{i}", (object?)n)).Concat(ids.Select((n, i) => ($"$i{i}", (object?)n))).ToArray();
        var text = "SELECT COALESCE(SUM(COALESCE(size_bytes, required_bytes, 0)), 0), " +
                   "COALESCE(SUM(CASE WHEN provisioning = 'thick' THEN COALESCE(size_bytes, required_bytes, 0) ELSE 0 END), 0) " +
                   "FROM records WHERE kind = 'volume' AND state IN ('reserved', 'created')" +
                   (names.Count > 0 ? $" AND request_name NOT IN ({string.Join(", ", args.Take(names.Count).Select(a => a.Item1))})" : "") +
                   (ids.Count > 0 ? $" AND uuid NOT IN ({string.Join(", ", args.Skip(names.Count).Select(a => a.Item1))})" : "");
        return Read(db => db.Query(text, r => (r.GetInt64(0), r.GetInt64(1)), args).Single());
    }

    /// <summary>Every record in any state, for operator commands and checks.</summary>
    public IReadOnlyList<Reservation> All(ObjectKind? kind = null) => Read(db => db.Query(
        $"SELECT {RecordColumns} FROM records r WHERE $kind IS NULL OR r.kind = $kind ORDER BY r.seq",
        ReadRecord, ("$kind", kind is { } k ? Columns.Text(k) : null)));

    private static long ParseToken(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }
        return long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq > 0
            ? seq
            : throw new StaleTokenException($"starting_token '{(token.Length > 40 ? token[..40] + "…" : token)}' " +
                                            "was not issued by this driver");
    }
}

/// <summary>Narrows a listing to one object or to the snapshots of one volume.</summary>
public sealed record ListFilter
{
    public ObjectId? Id { get; init; }

    public string? SourceVolume { get; init; }
}
