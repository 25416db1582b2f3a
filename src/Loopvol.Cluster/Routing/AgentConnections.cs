using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Loopvol.Agent.V1;
using Loopvol.Cluster.Discovery;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Loopvol.Cluster.Routing;

/// <summary>
/// The controller's connections to the node agents (docs/cluster.md, "Agent protocol"): one channel per agent, every
/// call with a deadline, a short retry of what never reached the agent (UNAVAILABLE), and a circuit breaker per
/// agent, so that an agent that is down answers UNAVAILABLE at once and only for its own objects. Any other answer of
/// the agent (NOT_FOUND, ABORTED, ...) is passed on as it is: the sidecars retry by their own rules.
/// </summary>
public sealed class AgentConnections(Func<AgentAddress, GrpcChannel> connect, AgentCallOptions options) : ILocator, IDisposable
{
    private readonly ConcurrentDictionary<AgentAddress, Lazy<Connection>> _connections = new();

    /// <summary>
    /// Runs <paramref name="call"/> against <paramref name="agent"/>'s channel. Cut off, unreachable or failing
    /// agents end in <see cref="UnavailableException"/> naming the node; the agent's own answers in their
    /// <see cref="RpcException"/>.
    /// </summary>
    public async Task<T> CallAsync<T>(AgentAddress agent, Func<GrpcChannel, CallOptions, Task<T>> call,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(call);
        var connection = _connections.GetOrAdd(agent, a => new Lazy<Connection>(() => new Connection(connect(a), Pipeline()))).Value;
        try
        {
            return await connection.Pipeline.ExecuteAsync(async token => await call(connection.Channel,
                new CallOptions(deadline: DateTime.UtcNow + options.Deadline, cancellationToken: token)).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            throw new UnavailableException($"the agent of node {agent.NodeId} is failing; calls to it are refused for " +
                                           $"{options.BreakFor.TotalSeconds:0.#} s: {e.Message}");
        }
        catch (RpcException e) when (IsUnreachable(e))
        {
            throw new UnavailableException($"the agent of node {agent.NodeId} ({agent.Url}) did not answer: " +
                                           $"{e.StatusCode} {e.Status.Detail}");
        }
    }

    public Task<bool> HoldsAsync(AgentAddress agent, string id, ObjectKind kind, CancellationToken cancellationToken) =>
        LocateAnyAsync(agent, kind, id, named: false, cancellationToken);

    public Task<bool> HoldsNameAsync(AgentAddress agent, string name, ObjectKind kind, CancellationToken cancellationToken) =>
        LocateAnyAsync(agent, kind, name, named: true, cancellationToken);

    /// <summary>Whether <paramref name="agent"/> holds the one ID (or, <paramref name="named"/>, request name) asked.</summary>
    private async Task<bool> LocateAnyAsync(AgentAddress agent, ObjectKind kind, string text, bool named,
        CancellationToken cancellationToken)
    {
        var request = new LocateRequest();
        ((kind, named) switch
        {
            (ObjectKind.Volume, false) => request.VolumeIds,
            (ObjectKind.Snapshot, false) => request.SnapshotIds,
            (_, false) => request.GroupSnapshotIds,
            (ObjectKind.Volume, true) => request.VolumeNames,
            (ObjectKind.Snapshot, true) => request.SnapshotNames,
            _ => request.GroupSnapshotNames,
        }).Add(text);
        var answer = await CallAsync(agent, (channel, call) => new Agent.V1.Agent.AgentClient(channel).LocateAsync(request, call).ResponseAsync,
            cancellationToken).ConfigureAwait(false);
        return answer.VolumeIds.Count + answer.SnapshotIds.Count + answer.GroupSnapshotIds.Count + answer.VolumeNames.Count +
               answer.SnapshotNames.Count + answer.GroupSnapshotNames.Count > 0;
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values.Where(c => c.IsValueCreated))
        {
            connection.Value.Channel.Dispose();
        }
    }

    /// <summary>
    /// The agent was not there or did not answer in time. A connection the agent closed as the call started (its
    /// server stopping: HTTP/2 GOAWAY) is reported by the client as INTERNAL with the transport's exception; the call
    /// never reached the agent, so it counts as unreachable too, and is tried again like UNAVAILABLE (every CSI call
    /// is idempotent).
    /// </summary>
    internal static bool IsUnreachable(RpcException e) => IsNotReached(e) || e.StatusCode == StatusCode.DeadlineExceeded;

    private static bool IsNotReached(RpcException e) => e.StatusCode == StatusCode.Unavailable ||
        (e.StatusCode == StatusCode.Internal && e.Status.DebugException is HttpRequestException);

    private ResiliencePipeline Pipeline() => new ResiliencePipelineBuilder()
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(IsUnreachable),
            FailureRatio = 0.5,
            MinimumThroughput = options.BreakAfter,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = options.BreakFor,
        })
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RpcException>(IsNotReached),
            MaxRetryAttempts = options.Retries,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(50),
        })
        .Build();

    private sealed record Connection(GrpcChannel Channel, ResiliencePipeline Pipeline);
}

/// <summary>How the controller calls agents.</summary>
public sealed record AgentCallOptions
{
    /// <summary>The deadline of each attempt.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Repeats of an attempt that never reached the agent (UNAVAILABLE).</summary>
    public int Retries { get; init; } = 2;

    /// <summary>Calls in a row (at least half failing) after which the agent's circuit opens.</summary>
    public int BreakAfter { get; init; } = 4;

    /// <summary>How long an open circuit refuses calls before one is let through to try.</summary>
    public TimeSpan BreakFor { get; init; } = TimeSpan.FromSeconds(5);
}
