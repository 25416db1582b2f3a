using System.Globalization;
using Loopvol.Core.Ids;

namespace Loopvol.Journal.Model;

/// <summary>
/// The arguments that define what a request asked for. A retry with equal arguments gets the same object; a
/// request with the same name and different arguments is a conflict. Every part is typed and kept in canonical
/// form (sorted where order carries no meaning), and it is persisted in one versioned form
/// (<see cref="DefiningArgumentsJson"/>).
/// </summary>
public sealed record DefiningArguments
{
    public long? RequiredBytes { get; init; }

    public long? LimitBytes { get; init; }

    /// <summary>Parameters in ordinal key order.</summary>
    public IReadOnlyDictionary<string, string> Parameters
    {
        get => field ?? Empty;
        init => field = new SortedDictionary<string, string>(
            value.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
    }

    /// <summary>For volumes made from data: the snapshot or volume copied.</summary>
    public ObjectId? ContentSource { get; init; }

    public Accessibility? Accessibility { get; init; }

    public CapabilitySet? Capabilities { get; init; }

    /// <summary>For snapshots: the volume they copy.</summary>
    public ObjectId? SourceVolume { get; init; }

    /// <summary>For group snapshots: the volumes they copy, in ordinal order of their IDs.</summary>
    public IReadOnlyList<ObjectId>? GroupSources
    {
        get;
        init => field = value?.Distinct().OrderBy(v => v.ToString(), StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// For one node's part of a group snapshot across nodes: the nodes that hold a part, in ordinal order (the first
    /// one's tag is in the group's ID). Null for a group made whole on one node. It follows from where the sources
    /// live, so it is kept, not compared.
    /// </summary>
    public IReadOnlyList<string>? GroupNodes
    {
        get;
        init => field = value?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new SortedDictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The first argument that differs from <paramref name="other"/>, described for an error; null if none.</summary>
    public string? FirstDifference(DefiningArguments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (RequiredBytes != other.RequiredBytes || LimitBytes != other.LimitBytes)
        {
            return $"capacity range (required {Show(other.RequiredBytes)}, limit {Show(other.LimitBytes)}) instead of " +
                   $"(required {Show(RequiredBytes)}, limit {Show(LimitBytes)})";
        }
        if (!SameMap(Parameters, other.Parameters))
        {
            return $"parameters {ShowMap(other.Parameters)} instead of {ShowMap(Parameters)}";
        }
        return Differs("content source", ContentSource, other.ContentSource)
               ?? Differs("accessibility requirements", Accessibility, other.Accessibility)
               ?? Differs("volume capabilities", Capabilities, other.Capabilities)
               ?? Differs("source volume", SourceVolume, other.SourceVolume)
               ?? (SameSources(GroupSources, other.GroupSources)
                   ? null
                   : $"source volumes '{ShowSources(other.GroupSources)}' instead of '{ShowSources(GroupSources)}'");
    }

    public bool Equals(DefiningArguments? other) => other is not null && FirstDifference(other) is null;

    public override int GetHashCode() => HashCode.Combine(RequiredBytes, LimitBytes, Parameters.Count, ContentSource, SourceVolume);

    internal static bool SameMap(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && string.Equals(v, p.Value, StringComparison.Ordinal));

    private static bool SameSources(IReadOnlyList<ObjectId>? a, IReadOnlyList<ObjectId>? b) =>
        a is null ? b is null : b is not null && a.SequenceEqual(b);

    private static string? Differs<T>(string what, T? mine, T? theirs) =>
        Equals(mine, theirs) ? null : $"{what} '{theirs?.ToString() ?? "none"}' instead of '{mine?.ToString() ?? "none"}'";

    private static string ShowMap(IReadOnlyDictionary<string, string> map) =>
        "{" + string.Join(", ", map.Select(p => $"{p.Key}={p.Value}")) + "}";

    private static string ShowSources(IReadOnlyList<ObjectId>? sources) => sources is null ? "none" : string.Join(",", sources);

    private static string Show(long? bytes) => bytes?.ToString(CultureInfo.InvariantCulture) ?? "none";
}
