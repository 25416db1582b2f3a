namespace Loopvol.Cluster.Discovery;

/// <summary>One node agent: the node it serves and where its agent endpoint listens (<c>https://host:port</c>).</summary>
public sealed record AgentAddress(string NodeId, Uri Url);

/// <summary>
/// Where the node agents are (docs/cluster.md, "Discovery"): a static file, or the Kubernetes API. Membership is
/// never decided here; this only says what the source says now.
/// </summary>
public interface IAgentDirectory
{
    /// <summary>Every agent known now, by node ID.</summary>
    IReadOnlyList<AgentAddress> Agents { get; }
}
