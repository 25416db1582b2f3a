using Loopvol.Journal.Model;

namespace Loopvol.Csi.Validation;

/// <summary>
/// The keys under <c>csi.storage.k8s.io/</c> that the Kubernetes sidecars add to create requests when run with
/// <c>--extra-create-metadata</c> (external-provisioner v6, external-snapshotter v8): which PVC, PV, VolumeSnapshot
/// or VolumeGroupSnapshot the object is for. They are accepted where the sidecar sends them, kept out of the
/// defining arguments (a retry with other metadata is the same request), and recorded for operators. Any other
/// key under the prefix is reserved for the sidecars (which strip their own before calling) and is refused.
/// </summary>
internal static class KubernetesParameters
{
    private const string Prefix = KubernetesNames.Prefix;

    public static IReadOnlyList<string> Volume => KubernetesNames.VolumeKeys;

    public static IReadOnlyList<string> Snapshot => KubernetesNames.SnapshotKeys;

    public static IReadOnlyList<string> GroupSnapshot => KubernetesNames.GroupKeys;

    /// <summary>
    /// Splits request parameters into those that define the object (only <paramref name="known"/> keys) and the
    /// Kubernetes metadata (<paramref name="metadata"/> keys). Any other key: INVALID_ARGUMENT naming it.
    /// </summary>
    public static (SortedDictionary<string, string> Defining, SortedDictionary<string, string> Metadata) Split(
        IDictionary<string, string> parameters, IReadOnlyList<string> metadata, IReadOnlyList<string> known, string what)
    {
        var defining = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (metadata.Contains(key))
            {
                found[key] = value;
            }
            else if (known.Contains(key))
            {
                defining[key] = value;
            }
            else
            {
                var accepted = string.Join(", ", known.Concat(metadata));
                throw Require.Invalid(key.StartsWith(Prefix, StringComparison.Ordinal)
                    ? $"parameters: key '{key}' is reserved for the Kubernetes sidecars and not one {what} takes (accepted: {accepted})"
                    : $"parameters: unknown key '{key}' ({what} accepts {(accepted.Length == 0 ? "none" : accepted)})");
            }
        }
        return (defining, found);
    }
}
