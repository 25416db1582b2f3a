using Loopvol.Journal.Model;

namespace Loopvol.Csi.Validation;

/// <summary>
/// The parameters a volume takes in CreateVolume's and ControllerModifyVolume's <c>mutable_parameters</c> (a
/// VolumeAttributesClass in Kubernetes): <c>provisioning</c>, <c>thick</c> or <c>thin</c>. Anything else is
/// INVALID_ARGUMENT naming the key or value, before any side effect.
/// </summary>
internal static class MutableParameters
{
    public const string ProvisioningKey = "provisioning";

    /// <summary>The provisioning asked for; null when not asked. Anything else: INVALID_ARGUMENT naming it.</summary>
    public static Provisioning? Parse(IDictionary<string, string> parameters)
    {
        var (provisioning, problem) = Read(parameters);
        return problem is null ? provisioning : throw Require.Invalid(problem);
    }

    /// <summary>What <see cref="Parse"/> refuses, for ValidateVolumeCapabilities; null when nothing.</summary>
    public static string? Problem(IDictionary<string, string> parameters) => Read(parameters).Problem;

    private static (Provisioning? Provisioning, string? Problem) Read(IDictionary<string, string> parameters)
    {
        Provisioning? provisioning = null;
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key != ProvisioningKey)
            {
                return (null, $"mutable_parameters: unknown key '{key}' (accepted: {ProvisioningKey})");
            }
            provisioning = value switch
            {
                "thick" => Provisioning.Thick,
                "thin" => Provisioning.Thin,
                _ => null,
            };
            if (provisioning is null)
            {
                return (null, $"mutable_parameters: {ProvisioningKey} '{value}' is not thick or thin");
            }
        }
        return (provisioning, null);
    }
}
