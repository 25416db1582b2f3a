using System.Text;
using System.Text.Json;
using Loopvol.Core.Ids;

namespace Loopvol.Journal.Model;

/// <summary>
/// The one persisted form of <see cref="DefiningArguments"/>: compact JSON with a version field, properties in a
/// fixed order, absent parts left out. The journal stores it per record and each image carries it in its own
/// record, so it is pinned by a golden test; a change of form is a new version, and readers refuse versions they
/// do not know.
/// </summary>
public static class DefiningArgumentsJson
{
    public const int Version = 1;

    public static string Serialize(DefiningArguments arguments)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, arguments);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static DefiningArguments Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Read(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new FormatException($"defining arguments are not JSON: {e.Message}", e);
        }
    }

    public static void Write(Utf8JsonWriter writer, DefiningArguments arguments)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(arguments);
        writer.WriteStartObject();
        writer.WriteNumber("v", Version);
        if (arguments.RequiredBytes is { } required)
        {
            writer.WriteNumber("required_bytes", required);
        }
        if (arguments.LimitBytes is { } limit)
        {
            writer.WriteNumber("limit_bytes", limit);
        }
        writer.WritePropertyName("parameters");
        WriteMap(writer, arguments.Parameters);
        if (arguments.ContentSource is { } source)
        {
            writer.WriteString("content_source", source.ToString());
        }
        if (arguments.Accessibility is { } accessibility)
        {
            writer.WriteStartObject("accessibility");
            WriteTopologies(writer, "requisite", accessibility.Requisite);
            WriteTopologies(writer, "preferred", accessibility.Preferred);
            writer.WriteEndObject();
        }
        if (arguments.Capabilities is { } capabilities)
        {
            writer.WriteStartArray("capabilities");
            foreach (var c in capabilities.Items)
            {
                WriteCapability(writer, c);
            }
            writer.WriteEndArray();
        }
        if (arguments.SourceVolume is { } volume)
        {
            writer.WriteString("source_volume", volume.ToString());
        }
        if (arguments.GroupSources is { } sources)
        {
            writer.WriteStartArray("group_sources");
            foreach (var s in sources)
            {
                writer.WriteStringValue(s.ToString());
            }
            writer.WriteEndArray();
        }
        if (arguments.GroupNodes is { } nodes)
        {
            writer.WriteStartArray("group_nodes");
            foreach (var n in nodes)
            {
                writer.WriteStringValue(n);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>Reads the form back; a version this code does not know, or anything malformed, is a <see cref="FormatException"/>.</summary>
    public static DefiningArguments Read(JsonElement element)
    {
        try
        {
            return ReadObject(element);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new FormatException($"malformed defining arguments: {e.Message}", e);
        }
    }

    private static DefiningArguments ReadObject(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("defining arguments must be a JSON object");
        }
        var version = element.TryGetProperty("v", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
        if (version != Version)
        {
            throw new FormatException($"defining arguments of version {version}; this loopvol reads version {Version}");
        }
        var arguments = new DefiningArguments();
        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value;
            arguments = property.Name switch
            {
                "v" => arguments,
                "required_bytes" => arguments with { RequiredBytes = value.GetInt64() },
                "limit_bytes" => arguments with { LimitBytes = value.GetInt64() },
                "parameters" => arguments with { Parameters = ReadMap(value) },
                "content_source" => arguments with { ContentSource = ReadSource(value.GetString()) },
                "accessibility" => arguments with
                {
                    Accessibility = Accessibility.Of(ReadTopologies(value, "requisite"), ReadTopologies(value, "preferred")),
                },
                "capabilities" => arguments with
                {
                    Capabilities = CapabilitySet.Of(value.EnumerateArray().Select(ReadCapability).ToList()),
                },
                "source_volume" => arguments with { SourceVolume = ReadId(value.GetString(), ObjectKind.Volume) },
                "group_sources" => arguments with
                {
                    GroupSources = value.EnumerateArray().Select(s => ReadId(s.GetString(), ObjectKind.Volume)).ToList(),
                },
                "group_nodes" => arguments with
                {
                    GroupNodes = value.EnumerateArray().Select(n => n.GetString() ?? throw new FormatException("a group node is null")).ToList(),
                },
                _ => throw new FormatException($"defining arguments have an unknown part '{property.Name}'"),
            };
        }
        return arguments;
    }

    private static void WriteCapability(Utf8JsonWriter writer, Capability c)
    {
        writer.WriteStartObject();
        writer.WriteString("access_type", c.AccessType == AccessType.Block ? "block" : "mount");
        writer.WriteString("access_mode", c.AccessMode);
        if (c.AccessType == AccessType.Mount)
        {
            writer.WriteString("fs_type", c.FsType);
            writer.WriteStartArray("mount_flags");
            foreach (var flag in c.MountFlags)
            {
                writer.WriteStringValue(flag);
            }
            writer.WriteEndArray();
            writer.WriteString("mount_group", c.MountGroup);
        }
        writer.WriteEndObject();
    }

    private static Capability ReadCapability(JsonElement e)
    {
        var mode = Text(e, "access_mode");
        return Text(e, "access_type") switch
        {
            "block" => Capability.Block(mode),
            "mount" => Capability.Mount(mode, Text(e, "fs_type"),
                e.GetProperty("mount_flags").EnumerateArray().Select(f => f.GetString() ?? "").ToList(), Text(e, "mount_group")),
            var other => throw new FormatException($"unknown access type '{other}'"),
        };
    }

    private static void WriteTopologies(Utf8JsonWriter writer, string name, IEnumerable<IReadOnlyDictionary<string, string>> topologies)
    {
        writer.WriteStartArray(name);
        foreach (var topology in topologies)
        {
            WriteMap(writer, topology);
        }
        writer.WriteEndArray();
    }

    private static List<IEnumerable<KeyValuePair<string, string>>> ReadTopologies(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(t => (IEnumerable<KeyValuePair<string, string>>)ReadMap(t)).ToList();

    private static void WriteMap(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, string>> map)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.WriteString(key, value);
        }
        writer.WriteEndObject();
    }

    private static Dictionary<string, string> ReadMap(JsonElement e) =>
        e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"a capability needs the text '{name}'");

    private static ObjectId ReadSource(string? text) =>
        ObjectId.TryParse(text, ObjectKind.Snapshot, out var snapshot) ? snapshot.Value : ReadId(text, ObjectKind.Volume);

    private static ObjectId ReadId(string? text, ObjectKind kind) =>
        ObjectId.TryParse(text, kind, out var id) ? id.Value : throw new FormatException($"'{text}' is not a {kind} ID");
}
