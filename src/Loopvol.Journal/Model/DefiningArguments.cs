using System.Text.Json;

namespace Loopvol.Journal.Model;

/// <summary>
/// The arguments that define what a request asked for. A retry with equal arguments gets the same object; a
/// request with the same name and different arguments is a conflict. Strings are canonical forms the caller makes
/// (sorted, fixed formatting), compared exactly.
/// </summary>
public sealed record DefiningArguments
{
    public long? RequiredBytes { get; init; }

    public long? LimitBytes { get; init; }

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new SortedDictionary<string, string>();

    /// <summary>e.g. <c>snapshot:snap-…</c> or <c>volume:vol-…</c>.</summary>
    public string? ContentSource { get; init; }

    public string? Accessibility { get; init; }

    public string? Capabilities { get; init; }

    /// <summary>For snapshots: the volume they copy.</summary>
    public string? SourceVolume { get; init; }

    /// <summary>The first argument that differs from <paramref name="other"/>, described for an error; null if none.</summary>
    public string? FirstDifference(DefiningArguments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (RequiredBytes != other.RequiredBytes || LimitBytes != other.LimitBytes)
        {
            return $"capacity range (required {Show(other.RequiredBytes)}, limit {Show(other.LimitBytes)}) instead of " +
                   $"(required {Show(RequiredBytes)}, limit {Show(LimitBytes)})";
        }
        if (CanonicalParameters != other.CanonicalParameters)
        {
            return $"parameters {other.CanonicalParameters} instead of {CanonicalParameters}";
        }
        return Differs("content source", ContentSource, other.ContentSource)
               ?? Differs("accessibility requirements", Accessibility, other.Accessibility)
               ?? Differs("volume capabilities", Capabilities, other.Capabilities)
               ?? Differs("source volume", SourceVolume, other.SourceVolume);
    }

    /// <summary>The parameters as JSON with keys in ordinal order: one text for one set of parameters.</summary>
    public string CanonicalParameters =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(
            Parameters.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal));

    /// <summary>Reads <see cref="CanonicalParameters"/> back.</summary>
    public static IReadOnlyDictionary<string, string> ParseParameters(string canonical) =>
        JsonSerializer.Deserialize<SortedDictionary<string, string>>(canonical) ?? [];

    public bool Equals(DefiningArguments? other) => other is not null && FirstDifference(other) is null;

    public override int GetHashCode() => HashCode.Combine(RequiredBytes, LimitBytes, CanonicalParameters, ContentSource);

    private static string? Differs(string what, string? mine, string? theirs) =>
        string.Equals(mine, theirs, StringComparison.Ordinal) ? null
            : $"{what} '{theirs ?? "none"}' instead of '{mine ?? "none"}'";

    private static string Show(long? bytes) => bytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}
