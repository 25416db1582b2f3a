using Loopvol.Core.Ids;
using Loopvol.Journal.Schema;

namespace Loopvol.Journal;

/// <summary>The Kubernetes objects a record was made for (<see cref="Model.KubernetesNames"/>); gone with the record.</summary>
public sealed partial class Journal
{
    /// <summary>Records the names for an existing record. Repeated: the latest names win. Empty: no change.</summary>
    public Task SetKubernetesNamesAsync(ObjectId id, IReadOnlyDictionary<string, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
        {
            return Task.CompletedTask;
        }
        var text = KubernetesNamesMigration.Serialize(names);
        return WriteAsync("set-kubernetes-names", db => db.Execute(
            """
            INSERT INTO kubernetes_names (uuid, names) SELECT uuid, $names FROM records WHERE uuid = $uuid AND kind = $kind
            ON CONFLICT (uuid) DO UPDATE SET names = $names WHERE names <> $names
            """,
            ("$uuid", id.Uuid.ToString("D")), ("$kind", Internal.Columns.Text(id.Kind)), ("$names", text)));
    }

    /// <summary>The names recorded for <paramref name="id"/>; empty when there are none.</summary>
    public IReadOnlyDictionary<string, string> KubernetesNamesOf(ObjectId id) => Read(db =>
        db.Query("SELECT names FROM kubernetes_names WHERE uuid = $uuid", r => r.GetString(0),
            ("$uuid", id.Uuid.ToString("D"))).SingleOrDefault() is { } text
            ? KubernetesNamesMigration.Parse(text)
            : new Dictionary<string, string>());

    /// <summary>Every record's names, by the record's UUID, for listings.</summary>
    public IReadOnlyDictionary<Guid, IReadOnlyDictionary<string, string>> AllKubernetesNames() => Read(db =>
        db.Query("SELECT uuid, names FROM kubernetes_names", r => (Uuid: Guid.Parse(r.GetString(0)), Names: r.GetString(1)))
            .ToDictionary(row => row.Uuid, row => KubernetesNamesMigration.Parse(row.Names)));
}
