using System.Text;
using System.Text.Json;
using Loopvol.Core.Ids;

namespace Loopvol.Journal.Model;

/// <summary>
/// A record as it travels with its backend object, so the object describes itself: what it is, the request that
/// made it, and, for a member of a group snapshot, the group it belongs to. With these the journal's records can be
/// made again from the backend objects alone. The state (an object in place is created) and the size (the
/// object's own) are not part of it.
/// </summary>
public sealed record PortableRecord(ObjectId Id, string RequestName, DateTimeOffset CreatedAt, DefiningArguments Arguments)
{
    public const int Version = 1;

    /// <summary>For a member of a group snapshot: the group.</summary>
    public PortableGroup? Group { get; init; }

    /// <summary>The Kubernetes objects it was made for (<see cref="KubernetesNames"/>); written only when there are some.</summary>
    public IReadOnlyDictionary<string, string> Kubernetes { get; init; } = new Dictionary<string, string>();

    public bool Equals(PortableRecord? other) =>
        other is not null && Id == other.Id && RequestName == other.RequestName && CreatedAt == other.CreatedAt &&
        Arguments.Equals(other.Arguments) && Equals(Group, other.Group) && Kubernetes.Count == other.Kubernetes.Count &&
        Kubernetes.All(p => other.Kubernetes.TryGetValue(p.Key, out var v) && v == p.Value);

    public override int GetHashCode() => HashCode.Combine(Id, RequestName, CreatedAt, Group);

    /// <summary>Compact JSON with a version field, properties in a fixed order; pinned by a golden test.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("kind", Kind(Id.Kind));
            writer.WriteString("id", Id.ToString());
            writer.WriteString("name", RequestName);
            writer.WriteNumber("created_at_ms", CreatedAt.ToUnixTimeMilliseconds());
            writer.WritePropertyName("arguments");
            DefiningArgumentsJson.Write(writer, Arguments);
            if (Group is { } group)
            {
                writer.WriteStartObject("group");
                writer.WriteString("id", group.Id.ToString());
                writer.WriteString("name", group.RequestName);
                writer.WriteNumber("created_at_ms", group.CreatedAt.ToUnixTimeMilliseconds());
                writer.WriteNumber("members", group.MemberCount);
                writer.WriteEndObject();
            }
            if (Kubernetes.Count > 0)
            {
                writer.WriteStartObject("kubernetes");
                foreach (var (key, value) in Kubernetes.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads <see cref="ToJson"/> back; an unknown version or anything malformed is a <see cref="FormatException"/>.</summary>
    public static PortableRecord Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var version = root.GetProperty("v").GetInt32();
            if (version != Version)
            {
                throw new FormatException($"a record of version {version}; this loopvol reads version {Version}");
            }
            var kind = root.GetProperty("kind").GetString() switch
            {
                "volume" => ObjectKind.Volume,
                "snapshot" => ObjectKind.Snapshot,
                var other => throw new FormatException($"a record of unknown kind '{other}'"),
            };
            var record = new PortableRecord(ReadId(root, kind), Text(root, "name"), Time(root),
                DefiningArgumentsJson.Read(root.GetProperty("arguments")));
            if (root.TryGetProperty("group", out var group))
            {
                record = record with
                {
                    Group = new PortableGroup(ReadId(group, ObjectKind.Group), Text(group, "name"), Time(group),
                        group.GetProperty("members").GetInt32()),
                };
            }
            if (root.TryGetProperty("kubernetes", out var kubernetes))
            {
                record = record with
                {
                    Kubernetes = kubernetes.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "",
                        StringComparer.Ordinal),
                };
            }
            return record;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"not a record: {e.Message}", e);
        }
    }

    private static string Kind(ObjectKind kind) => kind switch
    {
        ObjectKind.Volume => "volume",
        ObjectKind.Snapshot => "snapshot",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "only volumes and snapshots have images"),
    };

    private static ObjectId ReadId(JsonElement e, ObjectKind kind) =>
        ObjectId.TryParse(e.GetProperty("id").GetString(), kind, out var id)
            ? id.Value
            : throw new FormatException($"'{e.GetProperty("id")}' is not a {kind} ID");

    private static string Text(JsonElement e, string name) =>
        e.GetProperty(name).GetString() is { Length: > 0 } text ? text : throw new FormatException($"'{name}' is empty");

    private static DateTimeOffset Time(JsonElement e) =>
        DateTimeOffset.FromUnixTimeMilliseconds(e.GetProperty("created_at_ms").GetInt64());
}

/// <summary>The group snapshot a member image belongs to: its ID, its request name, when it was made, and how many members it has.</summary>
public sealed record PortableGroup(ObjectId Id, string RequestName, DateTimeOffset CreatedAt, int MemberCount);
