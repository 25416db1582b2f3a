using System.Text;
using Loopvol.Cluster.Discovery;
using Loopvol.Core.Errors;

namespace Loopvol.Cluster.Routing;

/// <summary>
/// One listing over every agent, in node order, behind one token (docs/cluster.md): the token names the node to go
/// on with and that agent's own token, so a restarted controller continues a listing and no object is listed twice.
/// </summary>
public static class MergedListing
{
    /// <summary>Reads up to <paramref name="maxEntries"/> (0: all) from <paramref name="agent"/>, from its <paramref name="token"/>.</summary>
    public delegate Task<(int Count, string NextToken)> PageReader(AgentAddress agent, string token, int maxEntries,
        CancellationToken cancellationToken);

    /// <summary>
    /// Reads pages from the agents in node order until <paramref name="maxEntries"/> (0: no limit) are read; returns
    /// the token to go on with, empty at the end. A token not made here, or naming a node no longer known, is
    /// <see cref="StaleTokenException"/> (ABORTED, as CSI asks for a token that is not valid).
    /// </summary>
    public static async Task<string> ReadAsync(IReadOnlyList<AgentAddress> agents, string startingToken, int maxEntries,
        PageReader read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agents);
        ArgumentNullException.ThrowIfNull(read);
        if (maxEntries < 0)
        {
            throw new InvalidArgumentException($"max_entries {maxEntries} is negative");
        }
        var ordered = agents.OrderBy(a => a.NodeId, StringComparer.Ordinal).ToList();
        var (index, token) = Start(ordered, startingToken ?? "");
        var left = maxEntries;
        for (var i = index; i < ordered.Count; i++, token = "")
        {
            var (count, next) = await read(ordered[i], token, left, cancellationToken).ConfigureAwait(false);
            if (next.Length > 0)
            {
                return Encode(ordered[i].NodeId, next);
            }
            if (maxEntries > 0 && (left -= count) <= 0)
            {
                return i + 1 < ordered.Count ? Encode(ordered[i + 1].NodeId, "") : "";
            }
        }
        return "";
    }

    internal static string Encode(string node, string token) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{node}\n{token}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (int Index, string Token) Start(List<AgentAddress> ordered, string startingToken)
    {
        if (startingToken.Length == 0)
        {
            return (0, "");
        }
        var text = Decode(startingToken) ?? throw new StaleTokenException(
            $"starting_token '{startingToken}' was not issued by this controller");
        var cut = text.IndexOf('\n', StringComparison.Ordinal);
        var node = text[..cut];
        var index = ordered.FindIndex(a => a.NodeId == node);
        return index < 0
            ? throw new StaleTokenException($"starting_token continues on node {node}, which has no agent now; start the listing again")
            : (index, text[(cut + 1)..]);
    }

    private static string? Decode(string token)
    {
        var padded = token.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - (padded.Length % 4)) % 4);
        var bytes = new byte[padded.Length];
        if (!Convert.TryFromBase64String(padded, bytes, out var length))
        {
            return null;
        }
        try
        {
            var text = new UTF8Encoding(false, true).GetString(bytes, 0, length);
            return text.IndexOf('\n', StringComparison.Ordinal) > 0 ? text : null;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
