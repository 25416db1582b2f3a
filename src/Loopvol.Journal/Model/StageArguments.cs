using System.Text.Json;
using System.Text.Json.Serialization;

namespace Loopvol.Journal.Model;

/// <summary>
/// What a NodeStageVolume asked for, as the node records it: a repeat must match it exactly. Persisted in one
/// versioned JSON form (<see cref="Serialize"/>, pinned by a golden test); rows written before that form (the
/// strings <c>block</c> and <c>mount;fs;flags;group</c>) are still read.
/// </summary>
public sealed record StageArguments
{
    private const int Version = 1;

    public StageArguments(bool block, string fsType, IEnumerable<string> mountFlags, string? mountGroup)
    {
        Block = block;
        FsType = block ? "" : fsType;
        MountFlags = block
            ? []
            : mountFlags.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        MountGroup = block ? null : mountGroup;
    }

    public bool Block { get; }

    /// <summary>The file system of a mount volume; empty for a block volume.</summary>
    public string FsType { get; }

    /// <summary>The single mount flags (comma-separated items split), distinct and in ordinal order.</summary>
    public IReadOnlyList<string> MountFlags { get; }

    public string? MountGroup { get; }

    public static StageArguments ForBlock() => new(true, "", [], null);

    /// <summary>The one persisted form, e.g. <c>{"v":1,"access":"mount","fs":"ext4","flags":["noatime"],"group":"1000"}</c>.</summary>
    public string Serialize() => JsonSerializer.Serialize(
        new Stored(Version, Block ? "block" : "mount", Block ? null : FsType, Block ? null : MountFlags.ToArray(), MountGroup),
        StageArgumentsJson.Default.Stored);

    /// <summary>Reads <see cref="Serialize"/>'s form, or the string form of rows from before it.</summary>
    public static StageArguments Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('{'))
        {
            var stored = JsonSerializer.Deserialize(text, StageArgumentsJson.Default.Stored)
                         ?? throw new FormatException("empty stage arguments");
            return stored.V == Version
                ? new StageArguments(stored.Access == "block", stored.Fs ?? "", stored.Flags ?? [], stored.Group)
                : throw new FormatException($"stage arguments of version {stored.V}, newer than this driver knows");
        }
        if (text == "block")
        {
            return ForBlock();
        }
        var parts = text.Split(';'); // The pre-version forms: mount;fs;flag,flag;group, or a bare file system name.
        return parts switch
        {
            ["mount", var fs, var flags, var group] => new StageArguments(false, fs,
                flags.Split(',', StringSplitOptions.RemoveEmptyEntries), group.Length == 0 ? null : group),
            [var fs] when fs.Length > 0 && fs.All(char.IsAsciiLetterOrDigit) => new StageArguments(false, fs, [], null),
            _ => throw new FormatException($"unreadable stage arguments '{text}'"),
        };
    }

    public bool Equals(StageArguments? other) =>
        other is not null && Block == other.Block && FsType == other.FsType && MountGroup == other.MountGroup &&
        MountFlags.SequenceEqual(other.MountFlags, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Block, FsType, MountGroup, MountFlags.Count);

    public override string ToString() => Block
        ? "block access"
        : $"{FsType} with mount flags [{string.Join(", ", MountFlags)}]{(MountGroup is null ? "" : $", mount group {MountGroup}")}";

    internal sealed record Stored(
        [property: JsonPropertyName("v")] int V,
        [property: JsonPropertyName("access")] string Access,
        [property: JsonPropertyName("fs")] string? Fs,
        [property: JsonPropertyName("flags")] string[]? Flags,
        [property: JsonPropertyName("group")] string? Group);
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StageArguments.Stored))]
internal sealed partial class StageArgumentsJson : JsonSerializerContext;
