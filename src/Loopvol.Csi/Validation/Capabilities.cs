using Loopvol.Csi.V1;
using Loopvol.Journal.Model;
using Mode = Loopvol.Csi.V1.VolumeCapability.Types.AccessMode.Types.Mode;

namespace Loopvol.Csi.Validation;

/// <summary>Which volume capabilities a node-local volume can have, and their typed form as the journal keeps it.</summary>
internal static class Capabilities
{
    public static readonly IReadOnlySet<string> FileSystems = new HashSet<string>(StringComparer.Ordinal) { "ext4", "xfs" };

    private static readonly HashSet<Mode> SingleNode =
    [
        Mode.SingleNodeWriter, Mode.SingleNodeReaderOnly, Mode.SingleNodeSingleWriter, Mode.SingleNodeMultiWriter,
    ];

    /// <summary>Why the capability cannot be had, or null when it can. Names the field.</summary>
    public static string? Problem(VolumeCapability capability, string field)
    {
        if (capability.AccessTypeCase == VolumeCapability.AccessTypeOneofCase.None)
        {
            return $"{field}.access_type is required (mount or block)";
        }
        if (capability.AccessMode is null || capability.AccessMode.Mode == Mode.Unknown)
        {
            return $"{field}.access_mode is required";
        }
        if (!SingleNode.Contains(capability.AccessMode.Mode))
        {
            return $"{field}.access_mode {capability.AccessMode.Mode} is not supported: volumes are node-local, " +
                   "so only single-node modes are";
        }
        if (capability.Mount is { } mount && mount.FsType.Length > 0 && !FileSystems.Contains(mount.FsType))
        {
            return $"{field}.mount.fs_type '{mount.FsType}' is not supported (ext4 or xfs)";
        }
        if (capability.Mount is { VolumeMountGroup.Length: > 0 } m && !uint.TryParse(m.VolumeMountGroup,
                System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return $"{field}.mount.volume_mount_group '{m.VolumeMountGroup}' is not a numeric group ID";
        }
        return null;
    }

    /// <summary>Checks every capability; throws INVALID_ARGUMENT naming the first bad one.</summary>
    public static void Check(IReadOnlyList<VolumeCapability> capabilities, string field)
    {
        if (capabilities.Count == 0)
        {
            throw Require.Invalid($"{field} is required");
        }
        for (var i = 0; i < capabilities.Count; i++)
        {
            if (Problem(capabilities[i], $"{field}[{i}]") is { } problem)
            {
                throw Require.Invalid(problem);
            }
        }
    }

    /// <summary>One typed set per set of capabilities, whatever their order: what a retry must repeat.</summary>
    public static CapabilitySet Canonical(IEnumerable<VolumeCapability> capabilities) =>
        CapabilitySet.Of(capabilities.Select(Typed));

    /// <summary>The file system the capabilities ask for, "" when none (block, or left to the driver).</summary>
    public static string FsType(IEnumerable<VolumeCapability> capabilities) =>
        capabilities.Select(c => c.Mount?.FsType ?? "").FirstOrDefault(f => f.Length > 0) ?? "";

    public static bool IsBlock(IEnumerable<VolumeCapability> capabilities) => capabilities.Any(c => c.Block is not null);

    private static Capability Typed(VolumeCapability c) => c.AccessTypeCase == VolumeCapability.AccessTypeOneofCase.Block
        ? Capability.Block(c.AccessMode.Mode.ToString())
        : Capability.Mount(c.AccessMode.Mode.ToString(), c.Mount.FsType, c.Mount.MountFlags, c.Mount.VolumeMountGroup);
}
