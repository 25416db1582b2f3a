namespace Loopvol.NodeHost.Mounts;

/// <summary>
/// The mount flags a volume capability may carry, checked before anything is attached or mounted: the generic
/// flags mount(2) takes as bits, and the options ext4 and xfs take, each with the form of its value. Anything else
/// is refused by name rather than handed to the kernel to find out.
/// </summary>
public static class MountOptions
{
    private static readonly HashSet<string> Generic = new(StringComparer.Ordinal)
    {
        "defaults", "rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "atime", "noatime", "diratime",
        "nodiratime", "relatime", "norelatime", "strictatime", "lazytime", "nolazytime", "sync", "async", "dirsync",
        "nosymfollow", "silent", "loud",
    };

    private static readonly Dictionary<string, ValueKind> Ext4 = new(StringComparer.Ordinal)
    {
        ["acl"] = ValueKind.None, ["noacl"] = ValueKind.None, ["user_xattr"] = ValueKind.None,
        ["nouser_xattr"] = ValueKind.None, ["barrier"] = ValueKind.OptionalNumber, ["nobarrier"] = ValueKind.None,
        ["commit"] = ValueKind.Number, ["data"] = ValueKind.DataMode, ["discard"] = ValueKind.None,
        ["nodiscard"] = ValueKind.None, ["errors"] = ValueKind.ErrorMode, ["grpid"] = ValueKind.None,
        ["bsdgroups"] = ValueKind.None, ["nogrpid"] = ValueKind.None, ["sysvgroups"] = ValueKind.None,
        ["resgid"] = ValueKind.Number, ["resuid"] = ValueKind.Number, ["quota"] = ValueKind.None,
        ["noquota"] = ValueKind.None, ["usrquota"] = ValueKind.None, ["grpquota"] = ValueKind.None,
        ["prjquota"] = ValueKind.None, ["stripe"] = ValueKind.Number, ["delalloc"] = ValueKind.None,
        ["nodelalloc"] = ValueKind.None, ["dioread_nolock"] = ValueKind.None, ["dioread_lock"] = ValueKind.None,
        ["journal_checksum"] = ValueKind.None, ["nojournal_checksum"] = ValueKind.None,
        ["journal_async_commit"] = ValueKind.None, ["noload"] = ValueKind.None, ["norecovery"] = ValueKind.None,
        ["auto_da_alloc"] = ValueKind.OptionalNumber, ["noauto_da_alloc"] = ValueKind.None,
        ["max_batch_time"] = ValueKind.Number, ["min_batch_time"] = ValueKind.Number,
        ["journal_ioprio"] = ValueKind.Number, ["init_itable"] = ValueKind.OptionalNumber,
        ["noinit_itable"] = ValueKind.None, ["block_validity"] = ValueKind.None, ["noblock_validity"] = ValueKind.None,
        ["i_version"] = ValueKind.None, ["inode_readahead_blks"] = ValueKind.Number, ["nombcache"] = ValueKind.None,
        ["prefetch_block_bitmaps"] = ValueKind.None, ["no_prefetch_block_bitmaps"] = ValueKind.None,
    };

    private static readonly Dictionary<string, ValueKind> Xfs = new(StringComparer.Ordinal)
    {
        ["allocsize"] = ValueKind.Size, ["discard"] = ValueKind.None, ["nodiscard"] = ValueKind.None,
        ["grpid"] = ValueKind.None, ["bsdgroups"] = ValueKind.None, ["nogrpid"] = ValueKind.None,
        ["sysvgroups"] = ValueKind.None, ["filestreams"] = ValueKind.None, ["ikeep"] = ValueKind.None,
        ["noikeep"] = ValueKind.None, ["inode32"] = ValueKind.None, ["inode64"] = ValueKind.None,
        ["largeio"] = ValueKind.None, ["nolargeio"] = ValueKind.None, ["logbufs"] = ValueKind.Number,
        ["logbsize"] = ValueKind.Size, ["noalign"] = ValueKind.None, ["norecovery"] = ValueKind.None,
        ["nouuid"] = ValueKind.None, ["noquota"] = ValueKind.None, ["uquota"] = ValueKind.None,
        ["usrquota"] = ValueKind.None, ["uqnoenforce"] = ValueKind.None, ["quota"] = ValueKind.None,
        ["pquota"] = ValueKind.None, ["prjquota"] = ValueKind.None, ["pqnoenforce"] = ValueKind.None,
        ["gquota"] = ValueKind.None, ["grpquota"] = ValueKind.None, ["gqnoenforce"] = ValueKind.None,
        ["sunit"] = ValueKind.Number, ["swidth"] = ValueKind.Number, ["swalloc"] = ValueKind.None,
        ["wsync"] = ValueKind.None,
    };

    private enum ValueKind
    {
        None,
        Number,
        OptionalNumber,
        Size,
        DataMode,
        ErrorMode,
    }

    /// <summary>
    /// Why <paramref name="flags"/> cannot be used to mount <paramref name="fsType"/>, naming the flag; null when
    /// every flag is one the file system takes. <paramref name="fsType"/> empty checks only the generic flags and
    /// the options either file system takes.
    /// </summary>
    public static string? Problem(string fsType, IEnumerable<string> flags, string field)
    {
        foreach (var flag in Pieces(flags))
        {
            if (flag.Length == 0 || flag.Any(char.IsWhiteSpace))
            {
                return $"{field} '{flag}' is not a mount flag";
            }
            if (Generic.Contains(flag))
            {
                continue;
            }
            var (name, value) = flag.IndexOf('=', StringComparison.Ordinal) is var at and >= 0
                ? (flag[..at], flag[(at + 1)..])
                : (flag, null);
            var known = fsType switch
            {
                "ext4" => Lookup(Ext4, name),
                "xfs" => Lookup(Xfs, name),
                _ => Lookup(Ext4, name) ?? Lookup(Xfs, name),
            };
            if (known is not { } kind)
            {
                return $"{field} '{flag}' is not a mount flag {(fsType.Length == 0 ? "ext4 or xfs" : fsType)} takes";
            }
            if (!Fits(kind, value))
            {
                return $"{field} '{flag}' has a value {name} does not take";
            }
        }
        return null;
    }

    /// <summary>The flags mount(2) takes as bits, and the rest as the file system's option string.</summary>
    public static (ulong Flags, string Data) Split(IReadOnlyList<string> mountFlags)
    {
        ulong bits = 0;
        var data = new List<string>();
        foreach (var flag in Pieces(mountFlags))
        {
            if (Mounter.Flags.TryGetValue(flag, out var bit))
            {
                bits |= bit;
            }
            else
            {
                data.Add(flag);
            }
        }
        return (bits, string.Join(',', data));
    }

    /// <summary>The single flags of a list whose items may each hold several, comma-separated (as mount(8) takes them).</summary>
    public static IEnumerable<string> Pieces(IEnumerable<string> flags) => flags.SelectMany(f => f.Split(','));

    private static ValueKind? Lookup(Dictionary<string, ValueKind> table, string name) =>
        table.TryGetValue(name, out var kind) ? kind : null;

    private static bool Fits(ValueKind kind, string? value) => kind switch
    {
        ValueKind.None => value is null,
        ValueKind.Number => value is { Length: > 0 and < 20 } && value.All(char.IsAsciiDigit),
        ValueKind.OptionalNumber => value is null || (value is { Length: > 0 and < 20 } && value.All(char.IsAsciiDigit)),
        ValueKind.Size => value is { Length: > 0 and < 20 } && char.IsAsciiDigit(value[0]) &&
                          value.TrimEnd('k', 'K', 'm', 'M', 'g', 'G').All(char.IsAsciiDigit),
        ValueKind.DataMode => value is "journal" or "ordered" or "writeback",
        ValueKind.ErrorMode => value is "continue" or "remount-ro" or "panic",
        _ => false,
    };
}
