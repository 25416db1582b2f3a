using System.Diagnostics.CodeAnalysis;
using Loopvol.Core.Errors;

namespace Loopvol.Core.Ids;

/// <summary>
/// An ID handed to Kubernetes: a kind prefix and a lowercase UUID, e.g. <c>vol-0b9e…</c>. Parsing is strict (exact
/// length, prefix, hex digits and dashes), so no other string ever reaches a file-system path built from an ID.
/// </summary>
public readonly record struct ObjectId(ObjectKind Kind, Guid Uuid)
{
    private const int UuidLength = 36;

    public static ObjectId New(ObjectKind kind) => new(kind, Guid.NewGuid());

    public static string PrefixOf(ObjectKind kind) => kind switch
    {
        ObjectKind.Volume => "vol-",
        ObjectKind.Snapshot => "snap-",
        ObjectKind.Group => "group-",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static bool TryParse(string? text, ObjectKind kind, [NotNullWhen(true)] out ObjectId? id)
    {
        id = null;
        var prefix = PrefixOf(kind);
        if (text is null || text.Length != prefix.Length + UuidLength ||
            !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var uuid = text.AsSpan(prefix.Length);
        for (var i = 0; i < uuid.Length; i++)
        {
            var dash = i is 8 or 13 or 18 or 23;
            if (dash ? uuid[i] != '-' : !char.IsAsciiHexDigitLower(uuid[i]) && !char.IsAsciiDigit(uuid[i]))
            {
                return false;
            }
        }
        id = new ObjectId(kind, Guid.ParseExact(uuid, "D"));
        return true;
    }

    /// <summary>Parses or throws <see cref="InvalidArgumentException"/> naming <paramref name="field"/>.</summary>
    public static ObjectId Parse(string? text, ObjectKind kind, string field) =>
        TryParse(text, kind, out var id)
            ? id.Value
            : throw new InvalidArgumentException(
                $"{field} '{Shorten(text)}' is not a {kind.ToString().ToLowerInvariant()} ID of this driver");

    public override string ToString() => PrefixOf(Kind) + Uuid.ToString("D");

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 80 ? text : text[..80] + "…";
}
