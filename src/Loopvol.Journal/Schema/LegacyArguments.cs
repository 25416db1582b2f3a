using System.Text.Json;
using Loopvol.Core.Ids;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;

namespace Loopvol.Journal.Schema;

/// <summary>
/// Reads the defining arguments as schema version 2 stored them, once, to convert them to the typed record:
/// parameters as JSON, the content source as <c>snapshot:ID</c> or <c>volume:ID</c>, accessibility as
/// <c>requisite=k=v,…|…;preferred=…</c>, capabilities as <c>block;Mode</c> or <c>mount;Mode;fs;flag,…;group</c>
/// joined by <c>|</c>, and a group's source volumes joined by <c>,</c>. Nothing else reads these forms.
/// </summary>
internal static class LegacyArguments
{
    /// <summary>Writes the typed record of every row; a row that cannot be read stops the migration, which rolls back.</summary>
    public static void ConvertAll(Db db)
    {
        var rows = db.Query(
            "SELECT uuid, kind, required_bytes, limit_bytes, parameters, content_source, accessibility, capabilities, " +
            "source_volume FROM records",
            r =>
            {
                string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
                long? Number(int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
                return (Uuid: r.GetString(0), Kind: r.GetString(1), Required: Number(2), Limit: Number(3),
                    Parameters: r.GetString(4), Source: Text(5), Accessibility: Text(6), Capabilities: Text(7),
                    Volume: Text(8));
            });
        foreach (var row in rows)
        {
            DefiningArguments arguments;
            try
            {
                arguments = Read(Columns.Kind(row.Kind), row.Required, row.Limit, row.Parameters, row.Source,
                    row.Accessibility, row.Capabilities, row.Volume);
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                throw new JournalException($"record {row.Uuid} holds defining arguments that cannot be read: {e.Message}", e);
            }
            db.Execute("UPDATE records SET arguments = $arguments, source_volume = $volume WHERE uuid = $uuid",
                ("$arguments", DefiningArgumentsJson.Serialize(arguments)),
                ("$volume", arguments.SourceVolume?.ToString()), ("$uuid", row.Uuid));
        }
    }

    public static DefiningArguments Read(ObjectKind kind, long? required, long? limit, string parameters,
        string? contentSource, string? accessibility, string? capabilities, string? sourceVolume) => new()
    {
        RequiredBytes = required,
        LimitBytes = limit,
        Parameters = JsonSerializer.Deserialize(parameters, StringMapJson.Default.DictionaryStringString) ?? [],
        ContentSource = contentSource is null ? null : Source(contentSource),
        Accessibility = accessibility is null ? null : Topology(accessibility),
        Capabilities = capabilities is null ? null : CapabilitySet.Of(capabilities.Split('|').Select(Capability)),
        SourceVolume = kind == ObjectKind.Snapshot && sourceVolume is not null ? Volume(sourceVolume) : null,
        GroupSources = kind == ObjectKind.Group && sourceVolume is not null
            ? sourceVolume.Split(',').Select(Volume).ToList()
            : null,
    };

    private static ObjectId Source(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? (ObjectKind?)null : text[..colon] switch
        {
            "snapshot" => ObjectKind.Snapshot,
            "volume" => ObjectKind.Volume,
            _ => null,
        };
        return kind is { } k && ObjectId.TryParse(text[(colon + 1)..], k, out var id)
            ? id.Value
            : throw new FormatException($"content source '{text}' is neither snapshot:ID nor volume:ID");
    }

    private static Accessibility Topology(string text)
    {
        const string Requisite = "requisite=", Preferred = ";preferred=";
        var split = text.IndexOf(Preferred, StringComparison.Ordinal);
        if (!text.StartsWith(Requisite, StringComparison.Ordinal) || split < 0)
        {
            throw new FormatException($"accessibility '{text}' is not requisite=…;preferred=…");
        }
        return Model.Accessibility.Of(Topologies(text[Requisite.Length..split]), Topologies(text[(split + Preferred.Length)..]));
    }

    private static List<IEnumerable<KeyValuePair<string, string>>> Topologies(string text) => text.Length == 0
        ? []
        : text.Split('|').Select(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Segment)).ToList();

    private static KeyValuePair<string, string> Segment(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? new KeyValuePair<string, string>(text[..equals], text[(equals + 1)..])
            : throw new FormatException($"topology segment '{text}' is not key=value");
    }

    private static Capability Capability(string text)
    {
        var parts = text.Split(';', 5);
        return parts switch
        {
            ["block", var mode] => Model.Capability.Block(mode),
            ["mount", var mode, var fs, var flags, var group] => Model.Capability.Mount(mode, fs, [flags], group),
            _ => throw new FormatException($"capability '{text}' is neither block;Mode nor mount;Mode;fs;flags;group"),
        };
    }

    private static ObjectId Volume(string text) =>
        ObjectId.TryParse(text, ObjectKind.Volume, out var id) ? id.Value : throw new FormatException($"'{text}' is not a volume ID");
}
