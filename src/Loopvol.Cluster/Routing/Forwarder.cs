using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Cluster.Discovery;
using Loopvol.Core.Errors;
using Loopvol.Core.Faults;
using Loopvol.Core.Ids;

namespace Loopvol.Cluster.Routing;

/// <summary>
/// Sends a CSI request, unchanged, to the node agent that answers it (docs/cluster.md, "Routing each call"). The
/// agent validates it and keeps every idempotency and crash rule; the controller only chooses where it goes.
/// Test runs may kill the controller at its two steps (<paramref name="faults"/>): <c>route.chosen</c>, the agent
/// chosen and not yet called, and <c>route.answered</c>, the agent's answer in hand and not yet passed on.
/// </summary>
public sealed class Forwarder(IAgentDirectory directory, Router router, AgentConnections agents, IFaultInjector? faults = null)
{
    private readonly IFaultInjector _faults = faults ?? NoFaults.Instance;

    /// <summary>The agents known now.</summary>
    public IReadOnlyList<AgentAddress> Agents => directory.Agents;

    /// <summary>Where new objects are placed, and which agent holds an ID.</summary>
    public Router Router => router;

    /// <summary>The controller's crash points (tests only).</summary>
    public IFaultInjector Faults => _faults;

    /// <summary>Calls <paramref name="agent"/> as one step of a larger exchange, which names its own crash points.</summary>
    public Task<T> StepAsync<T>(AgentAddress agent, Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        agents.CallAsync(agent, call, cancellationToken);

    /// <summary>Calls <paramref name="agent"/>.</summary>
    public async Task<T> ToAsync<T>(AgentAddress agent, Func<GrpcChannel, CallOptions, Task<T>> call,
        CancellationToken cancellationToken)
    {
        _faults.Reached("route.chosen");
        var answer = await agents.CallAsync(agent, call, cancellationToken).ConfigureAwait(false);
        _faults.Reached("route.answered");
        return answer;
    }

    /// <summary>
    /// Calls the agent that owns <paramref name="id"/>. An ID no agent holds (or text that is no ID at all) goes to
    /// any agent, which answers exactly as for an object it does not hold: NOT_FOUND, the success of a delete, or
    /// INVALID_ARGUMENT for a malformed request, all decided in one place.
    /// </summary>
    public async Task<T> ToOwnerAsync<T>(string id, ObjectKind kind, Func<GrpcChannel, CallOptions, Task<T>> call,
        CancellationToken cancellationToken)
    {
        var owner = await router.OwnerAsync(id, kind, cancellationToken).ConfigureAwait(false);
        return owner is null
            ? await ToAnyAsync(call, cancellationToken).ConfigureAwait(false)
            : await ToAsync(owner, call, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Calls the first reachable agent in node order: for requests about no object any agent holds. None reachable:
    /// <see cref="UnavailableException"/>.
    /// </summary>
    public async Task<T> ToAnyAsync<T>(Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        UnavailableException? last = null;
        foreach (var agent in directory.Agents.OrderBy(a => a.NodeId, StringComparer.Ordinal))
        {
            try
            {
                return await ToAsync(agent, call, cancellationToken).ConfigureAwait(false);
            }
            catch (UnavailableException e)
            {
                last = e;
            }
        }
        throw last ?? Router.NoAgents();
    }
}
