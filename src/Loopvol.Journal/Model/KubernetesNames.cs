namespace Loopvol.Journal.Model;

/// <summary>
/// Which Kubernetes objects a record was made for, as the sidecars say with <c>--extra-create-metadata</c>
/// (PVC and PV names for a volume, VolumeSnapshot and its content for a snapshot, VolumeGroupSnapshot and its
/// content for a group). Kept beside the record for operators; never part of what defines it.
/// </summary>
public static class KubernetesNames
{
    public const string Prefix = "csi.storage.k8s.io/";

    /// <summary>Every metadata key the sidecars add, by the kind of object they add it for.</summary>
    public static readonly IReadOnlyList<string> VolumeKeys = [Prefix + "pvc/name", Prefix + "pvc/namespace", Prefix + "pv/name"];

    public static readonly IReadOnlyList<string> SnapshotKeys =
        [Prefix + "volumesnapshot/name", Prefix + "volumesnapshot/namespace", Prefix + "volumesnapshotcontent/name"];

    public static readonly IReadOnlyList<string> GroupKeys =
    [
        Prefix + "volumegroupsnapshot/name", Prefix + "volumegroupsnapshot/namespace",
        Prefix + "volumegroupsnapshotcontent/name",
    ];

    public static bool IsMetadata(string key) => VolumeKeys.Contains(key) || SnapshotKeys.Contains(key) || GroupKeys.Contains(key);

    /// <summary>
    /// One line for a person, e.g. <c>PVC default/data, PV pvc-1234</c> or <c>VolumeSnapshot default/snap-a
    /// (content snapcontent-1)</c>; empty without names.
    /// </summary>
    public static string Describe(IReadOnlyDictionary<string, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        string? Get(string key) => names.TryGetValue(Prefix + key, out var v) ? v : null;
        string Qualified(string? ns, string? name) => ns is null ? name ?? "" : $"{ns}/{name}";
        var parts = new List<string>();
        if (Get("pvc/name") is { } pvc)
        {
            parts.Add($"PVC {Qualified(Get("pvc/namespace"), pvc)}");
        }
        if (Get("pv/name") is { } pv)
        {
            parts.Add($"PV {pv}");
        }
        if (Get("volumesnapshot/name") is { } snap)
        {
            parts.Add($"VolumeSnapshot {Qualified(Get("volumesnapshot/namespace"), snap)}");
        }
        if (Get("volumesnapshotcontent/name") is { } content)
        {
            parts.Add($"VolumeSnapshotContent {content}");
        }
        if (Get("volumegroupsnapshot/name") is { } group)
        {
            parts.Add($"VolumeGroupSnapshot {Qualified(Get("volumegroupsnapshot/namespace"), group)}");
        }
        if (Get("volumegroupsnapshotcontent/name") is { } groupContent)
        {
            parts.Add($"VolumeGroupSnapshotContent {groupContent}");
        }
        return string.Join(", ", parts);
    }
}
