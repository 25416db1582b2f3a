using System.Reflection;
using System.Text.RegularExpressions;

namespace Loopvol.Csi;

/// <summary>The plugin's name and version as GetPluginInfo reports them.</summary>
public sealed partial record DriverIdentity
{
    public const string DefaultName = "loopvol.csi.dev";

    public DriverIdentity(string name, string vendorVersion)
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"driver name '{name}' must be at most 63 characters of letters, digits, '-', '.' and '_', " +
                "beginning and ending with a letter or digit", nameof(name));
        }
        ArgumentException.ThrowIfNullOrEmpty(vendorVersion);
        Name = name;
        VendorVersion = vendorVersion;
    }

    public string Name { get; }

    public string VendorVersion { get; }

    /// <summary>The informational version of the driver's assembly (version plus source revision).</summary>
    public static string AssemblyVersion =>
        typeof(DriverIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?
            .InformationalVersion is { Length: > 0 } version
            ? version
            : typeof(DriverIdentity).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>The CSI spec's rule for plugin names: domain-name notation, at most 63 characters.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex NamePattern();
}
