using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Loopvol.Cluster.Discovery;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Cluster.Routing;

/// <summary>Asks one agent whether its pool holds an ID (the agent's Locate).</summary>
public interface ILocator
{
    /// <summary>Whether <paramref name="agent"/> holds <paramref name="id"/>; an agent out of reach throws.</summary>
    Task<bool> HoldsAsync(AgentAddress agent, string id, ObjectKind kind, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="agent"/> has reserved the request <paramref name="name"/>; out of reach throws.</summary>
    Task<bool> HoldsNameAsync(AgentAddress agent, string name, ObjectKind kind, CancellationToken cancellationToken);
}

/// <summary>
/// Which node agent a call goes to (docs/cluster.md, "Routing each call"), from the ID alone or one cheap lookup; it
/// keeps no state that a restart would lose, only a cache of answers that never change (an object never moves).
/// </summary>
public sealed class Router(IAgentDirectory directory, ILocator locator)
{
    private readonly ConcurrentDictionary<(ObjectKind, string), string> _located = new();

    /// <summary>
    /// The agent of the first of <paramref name="candidates"/> (nodes, in the caller's order of preference) that has
    /// one. None: <see cref="ResourceExhaustedException"/>, CSI's answer to a topology that cannot be provisioned.
    /// </summary>
    public AgentAddress ForNew(IReadOnlyList<string> candidates, string field)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var agents = directory.Agents;
        return candidates.Select(node => agents.FirstOrDefault(a => a.NodeId == node)).FirstOrDefault(a => a is not null)
               ?? throw new ResourceExhaustedException(
                   $"{field} admits only node(s) {string.Join(", ", candidates)}, and none of them has a loopvol agent " +
                   $"(known: {string.Join(", ", agents.Select(a => a.NodeId))})");
    }

    /// <summary>
    /// The agent for a new object asked for with no topology: the known agent whose node ranks highest for
    /// <paramref name="name"/> (rendezvous hashing), so a retry by name goes where the first attempt went while the
    /// agents stay the same, and a change of agents moves only the names of the node that came or went. No agent:
    /// <see cref="UnavailableException"/>.
    /// </summary>
    public AgentAddress ForName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return directory.Agents.MaxBy(a => Rank(name, a.NodeId))
               ?? throw NoAgents();
    }

    /// <summary>What a call that needs some agent answers when none is known.</summary>
    internal static UnavailableException NoAgents() =>
        new("no loopvol node agent is known: check the agents file or discovery");

    private static ulong Rank(string name, string node) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{name}\n{node}")));

    /// <summary>
    /// The agent that owns <paramref name="text"/>: the node its tag names, or for an ID without a tag the agent that
    /// holds it (every agent asked once, then remembered). Null when the text is no ID of this driver, or every agent
    /// answered that it holds no such object. An agent that cannot be reached, or a tag naming a node with no agent
    /// known, is <see cref="UnavailableException"/>: the object may well exist there.
    /// </summary>
    public async Task<AgentAddress?> OwnerAsync(string text, ObjectKind kind, CancellationToken cancellationToken)
    {
        if (!RoutedId.TryParse(text, kind, out var routed))
        {
            return null;
        }
        var agents = directory.Agents;
        if (routed.Value.Tag is { } tag)
        {
            return agents.FirstOrDefault(a => RoutedId.TagOf(a.NodeId) == tag)
                   ?? throw new UnavailableException($"no loopvol agent is known for the node of {text} (tag '{tag}')");
        }
        var plain = routed.Value.Id.ToString();
        if (_located.TryGetValue((kind, plain), out var known) && agents.FirstOrDefault(a => a.NodeId == known) is { } cached)
        {
            return cached;
        }
        var answers = await Task.WhenAll(agents.Select(a => AskAsync(a, locator.HoldsAsync, plain, kind, cancellationToken))).ConfigureAwait(false);
        if (answers.Where(a => a.Holds).Select(a => a.Agent).FirstOrDefault() is { } owner)
        {
            _located[(kind, plain)] = owner.NodeId;
            return owner;
        }
        if (answers.Where(a => a.Failure is not null).ToList() is [var first, ..] unreachable)
        {
            throw new UnavailableException($"{text} is on no reachable node; {unreachable.Count} agent(s) could not be " +
                                           $"asked, e.g. {first.Agent.NodeId}: {first.Failure!.Message}");
        }
        return null;
    }

    /// <summary>
    /// The agent that already holds a create's request <paramref name="name"/>, asked of every agent at once, so that
    /// a retry, or a reuse of the name with other arguments, reaches the object the name made wherever it is (and is
    /// answered there: the same object, or ALREADY_EXISTS). Null when no reachable agent holds it: an agent out of
    /// reach does not stop creates on the others (the CO's names are unique, and a retry takes the same route).
    /// </summary>
    public async Task<AgentAddress?> NameHolderAsync(string name, ObjectKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var agents = directory.Agents.OrderBy(a => a.NodeId, StringComparer.Ordinal).ToList();
        var answers = await Task.WhenAll(agents.Select(a => AskAsync(a, locator.HoldsNameAsync, name, kind, cancellationToken)))
            .ConfigureAwait(false);
        return answers.FirstOrDefault(a => a.Holds).Agent;
    }

    /// <summary>One agent's answer to <paramref name="ask"/>; out of reach is an answer too (not held, and why).</summary>
    private static async Task<(AgentAddress Agent, bool Holds, Exception? Failure)> AskAsync(AgentAddress agent,
        Func<AgentAddress, string, ObjectKind, CancellationToken, Task<bool>> ask, string text, ObjectKind kind,
        CancellationToken cancellationToken)
    {
        try
        {
            return (agent, await ask(agent, text, kind, cancellationToken).ConfigureAwait(false), null);
        }
        catch (UnavailableException e)
        {
            return (agent, false, e);
        }
    }
}
