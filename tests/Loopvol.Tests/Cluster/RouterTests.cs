using Loopvol.Cluster.Discovery;
using Loopvol.Cluster.Routing;
using Loopvol.Core.Errors;
using Loopvol.Core.Ids;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Routing (docs/cluster.md): new objects go to the first node asked for that has an agent; an ID goes to the node
/// its tag names, or for an untagged ID to the agent that holds it, asked once. The agents here answer Locate from a
/// table, and one may be made unreachable (the one thing a test cannot arrange with real agents cheaply).
/// </summary>
public sealed class RouterTests
{
    private const string LongNode = "ip-10-0-0-1.eu-west-1.compute.internal.example-cluster.long-node-name-for-testing-0123456789";
    private static readonly AgentAddress A = new("node-a", new Uri("https://127.0.0.1:9101"));
    private static readonly AgentAddress B = new("node-b", new Uri("https://127.0.0.1:9102"));
    private static readonly AgentAddress Long = new(LongNode, new Uri("https://127.0.0.1:9103"));

    [Test]
    public void ForNew_TakesTheFirstCandidateWithAnAgent_NoneIsResourceExhausted()
    {
        var router = new Router(new KnownAgents(A, B), new Table());

        Assert.That(router.ForNew(["node-x", "node-b", "node-a"], "accessibility_requirements"), Is.EqualTo(B));
        var none = Assert.Throws<ResourceExhaustedException>(() => router.ForNew(["node-x"], "accessibility_requirements"));
        Assert.That(none!.Message, Does.Contain("accessibility_requirements").And.Contain("node-x").And.Contain("node-a, node-b"));
    }

    [Test]
    public async Task ATaggedId_GoesToTheNodeItNames_EvenAHashedOne_AnUnknownNodeIsUnavailable()
    {
        var table = new Table();
        var router = new Router(new KnownAgents(A, B, Long), table);
        var id = ObjectId.New(ObjectKind.Volume);

        Assert.That(await router.OwnerAsync(RoutedId.On(id, "node-b").ToString(), ObjectKind.Volume, default), Is.EqualTo(B));
        Assert.That(await router.OwnerAsync(RoutedId.On(id, LongNode).ToString(), ObjectKind.Volume, default), Is.EqualTo(Long));
        Assert.That(table.Asked, Is.Zero, "a tag needs no lookup");
        var gone = Assert.ThrowsAsync<UnavailableException>(() => router.OwnerAsync(RoutedId.On(id, "node-z").ToString(), ObjectKind.Volume, default));
        Assert.That(gone!.Message, Does.Contain("node-z"));
    }

    [Test]
    public async Task AnUntaggedId_IsLocatedOnce_ThenRemembered()
    {
        var id = ObjectId.New(ObjectKind.Snapshot).ToString();
        var table = new Table { [B] = [id] };
        var router = new Router(new KnownAgents(A, B), table);

        var first = await router.OwnerAsync(id, ObjectKind.Snapshot, default);
        var asked = table.Asked;
        var second = await router.OwnerAsync(id, ObjectKind.Snapshot, default);

        Assert.That(first, Is.EqualTo(B));
        Assert.That(second, Is.EqualTo(B));
        Assert.That(asked, Is.EqualTo(2), "every agent asked once");
        Assert.That(table.Asked, Is.EqualTo(2), "then remembered");
    }

    [Test]
    public async Task AnUntaggedId_NoAgentHoldsIt_IsNull_ButAnUnreachableAgent_MakesItUnavailable()
    {
        var id = ObjectId.New(ObjectKind.Volume).ToString();
        var table = new Table();
        var router = new Router(new KnownAgents(A, B), table);

        Assert.That(await router.OwnerAsync(id, ObjectKind.Volume, default), Is.Null, "every agent answered: no such object");
        Assert.That(await router.OwnerAsync("vol-not-an-id", ObjectKind.Volume, default), Is.Null);
        table.Unreachable.Add(A);
        var unsure = Assert.ThrowsAsync<UnavailableException>(() => router.OwnerAsync(id, ObjectKind.Volume, default));
        Assert.That(unsure!.Message, Does.Contain("node-a"), "the object may be on the node that did not answer");
        table[B] = [id];
        Assert.That(await router.OwnerAsync(id, ObjectKind.Volume, default), Is.EqualTo(B), "found on a node that answered");
    }

    private sealed class KnownAgents(params AgentAddress[] agents) : IAgentDirectory
    {
        public IReadOnlyList<AgentAddress> Agents { get; } = agents;
    }

    private sealed class Table : Dictionary<AgentAddress, HashSet<string>>, ILocator
    {
        public HashSet<AgentAddress> Unreachable { get; } = [];

        public int Asked { get; private set; }

        public Task<bool> HoldsAsync(AgentAddress agent, string id, ObjectKind kind, CancellationToken cancellationToken)
        {
            Asked++;
            return Unreachable.Contains(agent)
                ? throw new UnavailableException($"{agent.NodeId} is down")
                : Task.FromResult(TryGetValue(agent, out var ids) && ids.Contains(id));
        }

        /// <summary>Names live in the same sets as IDs: no test name looks like an ID.</summary>
        public Task<bool> HoldsNameAsync(AgentAddress agent, string name, ObjectKind kind, CancellationToken cancellationToken) =>
            HoldsAsync(agent, name, kind, cancellationToken);
    }
}
