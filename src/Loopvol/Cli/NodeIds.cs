using System.Text.RegularExpressions;

namespace Loopvol.Cli;

/// <summary>Node IDs end up in topology labels, so they follow the Kubernetes label-value rule.</summary>
internal static partial class NodeIds
{
    public static bool IsValid(string? nodeId) => nodeId is not null && Pattern().IsMatch(nodeId);

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex Pattern();
}
