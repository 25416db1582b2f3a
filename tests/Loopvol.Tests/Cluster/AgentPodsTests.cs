using k8s;
using k8s.Models;
using Loopvol.Cluster.Discovery;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Which pods give agents, on pods recorded from a real API server (Cluster/Recorded), changed here only where a
/// recording cannot show a case: a node name that is no node ID, a pod IP that is no address, two equal pods.
/// </summary>
public sealed class AgentPodsTests
{
    private static IReadOnlyList<V1Pod> Listed() =>
        KubernetesJson.Deserialize<V1PodList>(RecordedApiServer.Recorded("pods-list.json")).Items.ToList();

    private static V1Pod On(IEnumerable<V1Pod> pods, string node) => pods.Single(p => p.Spec.NodeName == node);

    [Test]
    public void TheRecordedList_GivesTheRunningPodsOfEachNode_OnTheirAgentPort()
    {
        var (agents, misfits) = AgentPods.Select(Listed(), "agent");

        Assert.That(agents, Is.EqualTo(new[]
        {
            new AgentAddress("node-a", new Uri("https://10.244.1.7:9101")),
            new AgentAddress("node-b", new Uri("https://10.244.2.5:9101")),
        }));
        Assert.That(misfits, Is.Empty, "node-c's pod is Pending, which is no mistake");
    }

    [Test]
    public void ANodeNameThatIsNoNodeId_OrAPodIpThatIsNoAddress_GivesNoAgent_AndSaysWhy()
    {
        var pods = Listed();
        var longName = new string('n', 64);
        On(pods, "node-a").Spec.NodeName = longName;
        On(pods, "node-b").Status.PodIP = "10.244.2";

        var (agents, misfits) = AgentPods.Select(pods, "agent");

        Assert.That(agents, Is.Empty);
        Assert.That(misfits.Select(m => m.Problem), Is.EquivalentTo(new[]
        {
            $"its node name '{longName}' is no valid node ID (1 to 63 letters, digits, '-', '_' or '.')",
            "its pod IP '10.244.2' is no IP address",
        }));
        Assert.That(misfits.Select(m => m.Pod), Does.Contain("loopvol/loopvol-node-2pw2c"), "named namespace/name");
    }

    [Test]
    public void TwoReadyPodsOfOneNode_CreatedInTheSameSecond_AlwaysGiveTheSameOne()
    {
        var first = Listed();
        var twin = KubernetesJson.Deserialize<V1PodList>(RecordedApiServer.Recorded("pods-list.json")).Items
            .Single(p => p.Spec.NodeName == "node-a");
        twin.Metadata.Name = "loopvol-node-zzzzz";
        twin.Metadata.Uid = "twin";
        twin.Status.PodIP = "10.244.1.99";

        var forward = AgentPods.Select([.. first, twin], "agent").Agents;
        var backward = AgentPods.Select([twin, .. first], "agent").Agents;

        Assert.That(forward, Is.EqualTo(backward));
        Assert.That(forward[0].Url, Is.EqualTo(new Uri("https://10.244.1.99:9101")));
    }
}
