using Loopvol.Core.Host;
using Loopvol.Core.Ids;
using Loopvol.Journal.Model;

namespace Loopvol.Pool;

/// <summary>
/// What <c>journal rebuild</c> recovers from the pool alone: one record per image from the record it carries (its
/// ID, request name, creation time and defining arguments; created; its size the image's own), and each group
/// snapshot whose member images are all present, with its members. What cannot be recovered is left in place
/// and said, never deleted.
/// </summary>
public sealed record RebuildPlan(IReadOnlyList<ImportedRecord> Records, IReadOnlyList<string> NotRecovered,
    IReadOnlyList<string> Notes)
{
    public int Count(ObjectKind kind) => Records.Count(r => r.Id.Kind == kind && r.State == ReservationState.Created);
}

public static class PoolRebuild
{
    /// <summary>Reads every image's record; changes nothing.</summary>
    public static RebuildPlan Plan(PoolLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var notRecovered = new List<string>();
        var notes = new List<string>();
        var images = new List<(PortableRecord Record, long Size)>();
        var attached = LoopBackingFiles.Read().ToLookup(p => p.Value, p => p.Key, StringComparer.Ordinal);
        foreach (var name in new PoolInventory(layout).BackendNames().Order(StringComparer.Ordinal))
        {
            var path = layout.ImagePath(name);
            PortableRecord? record;
            try
            {
                record = ImageRecords.Read(path);
            }
            catch (FormatException e)
            {
                notRecovered.Add($"{name}: the record it carries cannot be read ({e.Message}); left in place");
                continue;
            }
            if (record is null || record.Id.ToString() != name)
            {
                notRecovered.Add(record is null
                    ? $"{name}: carries no record (made before images carried them); left in place"
                    : $"{name}: carries the record of {record.Id}; left in place");
                continue;
            }
            images.Add((record, new FileInfo(path).Length));
            if (attached[path].FirstOrDefault() is { } device)
            {
                notes.Add($"{name} is attached to {device}: its node state (stage, publications) is not kept in the " +
                          "pool and starts empty; unstage it on this node, or let the CO stage it again");
            }
        }
        var records = new List<ImportedRecord>();
        records.AddRange(Newest(images.Where(i => i.Record.Group is null)
            .Select(i => Imported(i.Record, i.Size)), notes));
        foreach (var group in images.Where(i => i.Record.Group is not null).GroupBy(i => i.Record.Group!.Id))
        {
            if (Group(group.ToList(), notRecovered) is { } recovered)
            {
                records.AddRange(recovered);
            }
        }
        var ordered = records.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id.ToString(), StringComparer.Ordinal).ToList();
        return new RebuildPlan(ordered, notRecovered, notes);
    }

    /// <summary>
    /// A group and its members when every member image is there and they agree on the group; otherwise null, and
    /// the member images stay (as images no record names) for an operator.
    /// </summary>
    private static List<ImportedRecord>? Group(List<(PortableRecord Record, long Size)> members, List<string> notRecovered)
    {
        var group = members[0].Record.Group!;
        var volumes = members.Select(m => m.Record.Arguments.SourceVolume).ToList();
        if (members.Any(m => m.Record.Group != group) || volumes.Any(v => v is null) || volumes.Distinct().Count() != members.Count)
        {
            notRecovered.Add($"group snapshot {group.Id} ('{group.RequestName}'): its member images disagree about it; " +
                             $"its {members.Count} member image(s) are left in place");
            return null;
        }
        if (members.Count != group.MemberCount)
        {
            notRecovered.Add($"group snapshot {group.Id} ('{group.RequestName}'): {members.Count} of its " +
                             $"{group.MemberCount} member images are in the pool (made half, or an image was lost); " +
                             "not recovered, and the member images present are left in place");
            return null;
        }
        var arguments = new DefiningArguments { GroupSources = volumes.Select(v => v!.Value).ToList() };
        var records = new List<ImportedRecord>
        {
            new(group.Id, group.RequestName, ReservationState.Created, group.CreatedAt, arguments, 0)
            {
                Members = members.ToDictionary(m => m.Record.Arguments.SourceVolume!.Value.ToString(),
                    m => m.Record.Id.ToString(), StringComparer.Ordinal),
            },
        };
        records.AddRange(members.Select(m => Imported(m.Record, m.Size)));
        return records;
    }

    /// <summary>
    /// One request name holds one object: when two images claim the same name (a create whose image appeared
    /// although it was marked faulty, then retried), the newest holds it and the others are recovered as faulty,
    /// as the journal had them.
    /// </summary>
    private static IEnumerable<ImportedRecord> Newest(IEnumerable<ImportedRecord> records, List<string> notes)
    {
        foreach (var claim in records.GroupBy(r => (r.Id.Kind, r.RequestName)))
        {
            var ordered = claim.OrderByDescending(r => r.CreatedAt).ToList();
            yield return ordered[0];
            foreach (var older in ordered.Skip(1))
            {
                notes.Add($"{older.Id} claims '{older.RequestName}' like the newer {ordered[0].Id}: recovered as " +
                          "faulty ('journal gc --apply' removes it and its image)");
                yield return older with { State = ReservationState.Faulty };
            }
        }
    }

    private static ImportedRecord Imported(PortableRecord record, long size) =>
        new(record.Id, record.RequestName, ReservationState.Created, record.CreatedAt, record.Arguments, size)
        {
            Kubernetes = record.Kubernetes,
        };
}
