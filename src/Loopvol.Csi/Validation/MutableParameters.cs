using Loopvol.Core.Errors;
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

    /// <summary>The provisioning asked for; null when not asked.</summary>
    public static Provisioning? Parse(IDictionary<string, string> parameters)
    {
        Provisioning? provisioning = null;
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key != ProvisioningKey)
            {
                throw Require.Invalid($"mutable_parameters: unknown key '{key}' (accepted: {ProvisioningKey})");
            }
            provisioning = value switch
            {
                "thick" => Provisioning.Thick,
                "thin" => Provisioning.Thin,
                _ => throw Require.Invalid($"mutable_parameters: {ProvisioningKey} '{value}' is not thick or thin"),
            };
        }
        return provisioning;
    }

    /// <summary>What <see cref="Parse"/> would refuse, for ValidateVolumeCapabilities; null when nothing.</summary>
    public static string? Problem(IDictionary<string, string> parameters)
    {
        try
        {
            Parse(parameters);
            return null;
        }
        catch (InvalidArgumentException e)
        {
            return e.Message;
        }
    }
}
