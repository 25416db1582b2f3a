namespace Loopvol.Journal.Model;

/// <summary>
/// A request's accessibility requirements: the requisite and preferred topologies, each a set of segments
/// (key → value). The lists keep the order they were asked in, since preferred order is a priority.
/// </summary>
public sealed record Accessibility
{
    private Accessibility(IReadOnlyList<IReadOnlyDictionary<string, string>> requisite,
        IReadOnlyList<IReadOnlyDictionary<string, string>> preferred)
    {
        Requisite = requisite;
        Preferred = preferred;
    }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Requisite { get; }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Preferred { get; }

    public static Accessibility Of(IEnumerable<IEnumerable<KeyValuePair<string, string>>> requisite,
        IEnumerable<IEnumerable<KeyValuePair<string, string>>> preferred) => new(Segments(requisite), Segments(preferred));

    public bool Equals(Accessibility? other) =>
        other is not null && SameLists(Requisite, other.Requisite) && SameLists(Preferred, other.Preferred);

    public override int GetHashCode() => HashCode.Combine(Requisite.Count, Preferred.Count);

    public override string ToString() => $"requisite [{Show(Requisite)}], preferred [{Show(Preferred)}]";

    private static IReadOnlyDictionary<string, string>[] Segments(IEnumerable<IEnumerable<KeyValuePair<string, string>>> lists) =>
        lists.Select(t => (IReadOnlyDictionary<string, string>)new SortedDictionary<string, string>(
            t.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal), StringComparer.Ordinal)).ToArray();

    private static bool SameLists(IReadOnlyList<IReadOnlyDictionary<string, string>> a,
        IReadOnlyList<IReadOnlyDictionary<string, string>> b) =>
        a.Count == b.Count && a.Zip(b).All(p => DefiningArguments.SameMap(p.First, p.Second));

    private static string Show(IEnumerable<IReadOnlyDictionary<string, string>> topologies) =>
        string.Join(" | ", topologies.Select(t => string.Join(",", t.Select(s => $"{s.Key}={s.Value}"))));
}
