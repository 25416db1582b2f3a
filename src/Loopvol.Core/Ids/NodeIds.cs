using System.Text.RegularExpressions;

namespace Loopvol.Core.Ids;

/// <summary>
/// Node IDs end up in topology labels, so they follow the Kubernetes label-value rule: 1 to 63 letters, digits, '-',
/// '_' or '.', beginning and ending alphanumeric.
/// </summary>
public static partial class NodeIds
{
    public static bool IsValid(string? nodeId) => nodeId is not null && Pattern().IsMatch(nodeId);

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex Pattern();
}
