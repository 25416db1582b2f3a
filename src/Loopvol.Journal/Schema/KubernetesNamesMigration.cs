using System.Text.Json;
using Loopvol.Journal.Internal;
using Loopvol.Journal.Model;

namespace Loopvol.Journal.Schema;

/// <summary>
/// Version 4: the sidecars' metadata keys (<see cref="KubernetesNames"/>) leave the defining arguments, where
/// versions up to 3 kept them as parameters, and move to their own table. A retry with other metadata is then
/// the same request, and a retry of a request made before keeps its ID.
/// </summary>
internal static class KubernetesNamesMigration
{
    public const string CreateTable =
        """
        CREATE TABLE kubernetes_names (
            uuid TEXT PRIMARY KEY NOT NULL REFERENCES records (uuid) ON DELETE CASCADE,
            names TEXT NOT NULL
        ) WITHOUT ROWID;
        """;

    public static void MoveAll(Db db)
    {
        var rows = db.Query("SELECT uuid, arguments FROM records WHERE arguments IS NOT NULL",
            r => (Uuid: r.GetString(0), Arguments: r.GetString(1)));
        foreach (var row in rows)
        {
            var arguments = DefiningArgumentsJson.Parse(row.Arguments);
            var names = arguments.Parameters.Where(p => KubernetesNames.IsMetadata(p.Key))
                .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            if (names.Count == 0)
            {
                continue;
            }
            var kept = arguments with
            {
                Parameters = arguments.Parameters.Where(p => !KubernetesNames.IsMetadata(p.Key))
                    .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            };
            db.Execute("UPDATE records SET arguments = $arguments WHERE uuid = $uuid",
                ("$arguments", DefiningArgumentsJson.Serialize(kept)), ("$uuid", row.Uuid));
            db.Execute("INSERT INTO kubernetes_names (uuid, names) VALUES ($uuid, $names)",
                ("$uuid", row.Uuid), ("$names", Serialize(names)));
        }
    }

    public static string Serialize(IReadOnlyDictionary<string, string> names) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(names.ToDictionary(), StringComparer.Ordinal),
            StringMapJson.Default.SortedDictionaryStringString);

    public static IReadOnlyDictionary<string, string> Parse(string text) =>
        JsonSerializer.Deserialize(text, StringMapJson.Default.SortedDictionaryStringString) ?? [];
}
