namespace Loopvol.Journal.Model;

/// <summary>How a volume is accessed: through a file system mounted from it, or as a raw block device.</summary>
public enum AccessType
{
    Mount,
    Block,
}

/// <summary>
/// One volume capability a request asked for. Mount flags are kept as the options they amount to: split at commas,
/// empty ones dropped, in ordinal order (<c>["ro,noatime"]</c> and <c>["noatime", "ro"]</c> mount alike).
/// </summary>
public sealed record Capability : IComparable<Capability>
{
    private Capability(AccessType accessType, string accessMode, string fsType, IReadOnlyList<string> mountFlags,
        string mountGroup)
    {
        AccessType = accessType;
        AccessMode = accessMode;
        FsType = fsType;
        MountFlags = mountFlags;
        MountGroup = mountGroup;
    }

    public AccessType AccessType { get; }

    /// <summary>The CSI access mode by name, e.g. <c>SingleNodeWriter</c>.</summary>
    public string AccessMode { get; }

    /// <summary>For a mount capability: the file system asked for, "" when left to the driver.</summary>
    public string FsType { get; }

    public IReadOnlyList<string> MountFlags { get; }

    /// <summary>For a mount capability: the volume_mount_group, "" when none.</summary>
    public string MountGroup { get; }

    public static Capability Block(string accessMode) => new(AccessType.Block, Required(accessMode), "", [], "");

    public static Capability Mount(string accessMode, string fsType, IEnumerable<string> mountFlags, string mountGroup) =>
        new(AccessType.Mount, Required(accessMode), fsType ?? "",
            mountFlags.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries)).Order(StringComparer.Ordinal)
                .ToArray(), mountGroup ?? "");

    public bool Equals(Capability? other) =>
        other is not null && AccessType == other.AccessType && AccessMode == other.AccessMode && FsType == other.FsType &&
        MountGroup == other.MountGroup && MountFlags.SequenceEqual(other.MountFlags, StringComparer.Ordinal);

    public override int GetHashCode() => HashCode.Combine(AccessType, AccessMode, FsType, MountGroup, MountFlags.Count);

    /// <summary>A total order, so a set of capabilities has one canonical order.</summary>
    public int CompareTo(Capability? other)
    {
        if (other is null)
        {
            return 1;
        }
        var order = AccessType.CompareTo(other.AccessType);
        order = order != 0 ? order : string.CompareOrdinal(AccessMode, other.AccessMode);
        order = order != 0 ? order : string.CompareOrdinal(FsType, other.FsType);
        order = order != 0 ? order : string.CompareOrdinal(MountGroup, other.MountGroup);
        for (var i = 0; order == 0 && i < Math.Min(MountFlags.Count, other.MountFlags.Count); i++)
        {
            order = string.CompareOrdinal(MountFlags[i], other.MountFlags[i]);
        }
        return order != 0 ? order : MountFlags.Count.CompareTo(other.MountFlags.Count);
    }

    public override string ToString() => AccessType == AccessType.Block
        ? $"block {AccessMode}"
        : $"mount {AccessMode} fs '{FsType}' flags [{string.Join(",", MountFlags)}] group '{MountGroup}'";

    private static string Required(string accessMode) =>
        string.IsNullOrEmpty(accessMode) ? throw new ArgumentException("an access mode is required", nameof(accessMode)) : accessMode;
}

/// <summary>The capabilities of one request, in canonical order whatever order they were asked in.</summary>
public sealed record CapabilitySet
{
    private CapabilitySet(IReadOnlyList<Capability> items) => Items = items;

    public IReadOnlyList<Capability> Items { get; }

    /// <summary>True when any capability is block access.</summary>
    public bool AnyBlock => Items.Any(c => c.AccessType == AccessType.Block);

    /// <summary>True when there are capabilities and all are block access.</summary>
    public bool AllBlock => Items.Count > 0 && Items.All(c => c.AccessType == AccessType.Block);

    public static CapabilitySet Of(IEnumerable<Capability> capabilities) => new(capabilities.Order().ToArray());

    public bool Equals(CapabilitySet? other) => other is not null && Items.SequenceEqual(other.Items);

    public override int GetHashCode() => Items.Count;

    public override string ToString() => string.Join("; ", Items);
}
