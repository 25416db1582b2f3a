using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Loopvol.Core.Ids;

/// <summary>
/// An ID as handed to Kubernetes, which may carry the node that owns the object (docs/cluster.md): the strict
/// <see cref="ObjectId"/>, then optionally <c>.</c> and a node tag. The tag is the node ID itself when it is made of
/// letters, digits, '-', '_' and '.', begins and ends with a letter or digit, and is at most
/// <see cref="MaxPlainTag"/> bytes (every node ID the driver accepts),
/// else <c>~</c> and 26 base32 letters of its SHA-256. Either way the whole ID stays within CSI's 128 bytes. Only the
/// <see cref="ObjectId"/> part ever reaches a journal record or a path; the tag only says where to route.
/// </summary>
public readonly record struct RoutedId(ObjectId Id, string? Tag)
{
    /// <summary>CSI's limit on an ID's length, in bytes.</summary>
    public const int MaxLength = 128;

    /// <summary>The longest node ID used as it is: what is left of <see cref="MaxLength"/> after the longest prefix.</summary>
    public const int MaxPlainTag = MaxLength - 6 - 36 - 1;

    private const int HashLetters = 26;
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The ID of <paramref name="id"/> owned by <paramref name="node"/>.</summary>
    public static RoutedId On(ObjectId id, string node) => new(id, TagOf(node));

    /// <summary>The tag that names <paramref name="node"/>.</summary>
    public static string TagOf(string node)
    {
        ArgumentException.ThrowIfNullOrEmpty(node);
        return IsPlain(node) ? node : "~" + Hash(node);
    }

    /// <summary>Whether this ID may be served by <paramref name="node"/>: it has no tag, or the tag names that node.</summary>
    public bool IsFor(string node) => Tag is null || Tag == TagOf(node);

    /// <summary>
    /// Parses strictly: an <see cref="ObjectId"/> of <paramref name="kind"/>, alone or followed by <c>.</c> and a
    /// well-formed tag. Anything else (trailing text, an empty or malformed tag) is not an ID of this driver.
    /// </summary>
    public static bool TryParse(string? text, ObjectKind kind, [NotNullWhen(true)] out RoutedId? routed)
    {
        routed = null;
        if (text is null)
        {
            return false;
        }
        var length = ObjectId.PrefixOf(kind).Length + 36;
        if (text.Length < length || !ObjectId.TryParse(text[..length], kind, out var id))
        {
            return false;
        }
        if (text.Length == length)
        {
            routed = new RoutedId(id.Value, null);
            return true;
        }
        var tag = text[(length + 1)..];
        if (text[length] != '.' || !(IsPlain(tag) || IsHashed(tag)))
        {
            return false;
        }
        routed = new RoutedId(id.Value, tag);
        return true;
    }

    public override string ToString() => Tag is null ? Id.ToString() : $"{Id}.{Tag}";

    private static bool IsPlain(string tag) => tag.Length is > 0 and <= MaxPlainTag &&
        char.IsAsciiLetterOrDigit(tag[0]) && char.IsAsciiLetterOrDigit(tag[^1]) &&
        tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static bool IsHashed(string tag) =>
        tag.Length == HashLetters + 1 && tag[0] == '~' && tag.Skip(1).All(c => Base32.Contains(c, StringComparison.Ordinal));

    /// <summary>The first 130 bits of SHA-256 of the node's UTF-8 bytes, in RFC 4648 base32, lowercase.</summary>
    private static string Hash(string node)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(node));
        var letters = new StringBuilder(HashLetters);
        for (var bit = 0; letters.Length < HashLetters; bit += 5)
        {
            var value = 0;
            for (var i = 0; i < 5; i++)
            {
                var at = bit + i;
                value = (value << 1) | ((digest[at / 8] >> (7 - (at % 8))) & 1);
            }
            letters.Append(Base32[value]);
        }
        return letters.ToString();
    }
}
