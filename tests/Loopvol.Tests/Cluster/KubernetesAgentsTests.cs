using Loopvol.Bench.Tls;
using System.Text.Json;
using Loopvol.Cluster.Discovery;
using Loopvol.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Loopvol.Tests.Cluster;

/// <summary>
/// Kubernetes discovery with the real KubernetesClient over HTTPS, against responses recorded from a real
/// kube-apiserver (Cluster/Recorded/record.sh): no live API server runs here. The recorded story: node-a and node-b
/// serve and node-c's pod is still starting (the list); then node-c starts (IPv6), node-d joins, node-a rolls to a new
/// pod (NotReady beside the old Ready one, then Ready, then the old one terminates), node-b goes NotReady and is
/// deleted; then a watch from the list's version is answered 410, and the list after it all.
/// </summary>
public sealed class KubernetesAgentsTests
{
    private const string Selector = "app.kubernetes.io/name=loopvol,app.kubernetes.io/component=node";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static readonly string[] Watch = RecordedApiServer.Recorded("pods-watch.jsonl").Split('\n', StringSplitOptions.RemoveEmptyEntries);
    private static readonly string Expired = RecordedApiServer.Recorded("pods-watch-expired.jsonl").Trim();

    private TempDirectory _dir = null!;
    private TestCa _ca = null!;

    [SetUp]
    public void MakeCa()
    {
        _dir = new TempDirectory();
        _ca = TestCa.CreateRoot("recorded kube-apiserver CA");
    }

    [TearDown]
    public void RemoveFiles() => _dir.Dispose();

    /// <summary>After the list and after each recorded event: the resource version reached and the agents then.</summary>
    private static readonly (string Version, string Agents)[] Story =
    [
        ("627", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101"), // The list: node-c's pod is Pending, without an IP.
        ("629", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101"), // node-c Running.
        ("635", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101"), // node-d's pod made.
        ("641", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101"), // ... bound, Pending.
        ("643", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("647", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("654", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        // node-a's new pod Running but not Ready: the old, Ready one still serves.
        ("655", "node-a=10.244.1.7:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        // Both Ready: the newest.
        ("657", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("658", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("659", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("663", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("664", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        // node-b NotReady: still its node's agent (readiness only chooses between two pods of one node).
        ("666", "node-a=10.244.1.8:9101 node-b=10.244.2.5:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        // node-b Terminating, then deleted.
        ("667", "node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("670", "node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("672", "node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
        ("673", "node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"),
    ];

    [Test]
    public async Task ListThenWatch_FollowsTheRecordedStory_ThenA410EventRelists()
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        api.ServeList(RecordedApiServer.Recorded("pods-list.json"));
        using var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        await using var agents = Start(api, loggers, "loopvol");

        await agents.Listed.WaitAsync(Patience);
        var seen = new List<(string?, string)> { (agents.ResourceVersion, Show(agents)) };
        var watch = await api.NextWatchAsync();
        foreach (var line in Watch)
        {
            watch.Send(line);
            await ReachAsync(agents, VersionOf(line));
            seen.Add((agents.ResourceVersion, Show(agents)));
        }
        api.ServeList(RecordedApiServer.Recorded("pods-relist.json"));
        watch.Send(Expired);
        var second = await api.NextWatchAsync();

        Assert.That(seen, Is.EqualTo(Story));
        Assert.That(watch.Request.Query["resourceVersion"], Is.EqualTo("627"), "the watch starts at the list's version");
        Assert.That(api.Lists, Has.Count.EqualTo(2), "the 410 made it list again");
        Assert.That(second.Request.Query["resourceVersion"], Is.EqualTo("688"), "and watch from the new list's version");
        Assert.That(Show(agents), Is.EqualTo("node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"));
        Assert.That(agents.Agents[0].Url, Is.EqualTo(new Uri("https://10.244.1.8:9101")));
        Assert.That(logs.AllText, Does.Contain("resource version 673 is no longer kept by the API server (the watch ended with 410 Expired: too old resource version: 627 (681))"));
        Assert.That(api.Requests, Has.All.Matches<ApiRequest>(r =>
            r.Path == "/api/v1/namespaces/loopvol/pods" && r.Query["labelSelector"] == Selector &&
            r.Authorization == $"Bearer {RecordedApiServer.Token}"), "the namespace, selector and token of every request");
        Assert.That(api.Requests.Where(r => r.IsWatch), Has.All.Matches<ApiRequest>(r => r.Query["allowWatchBookmarks"] == "true"));
    }

    [Test]
    public async Task AWatchRefusedWith410_Relists()
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        api.ServeList(RecordedApiServer.Recorded("pods-list.json"));
        using var loggers = CapturingLoggerProvider.CreateFactory(out _);
        api.RefuseNextWatch(410, JsonDocument.Parse(Expired).RootElement.GetProperty("object").GetRawText());
        await using var agents = Start(api, loggers, "loopvol");

        await agents.Listed.WaitAsync(Patience);
        api.ServeList(RecordedApiServer.Recorded("pods-relist.json"));
        var watch = await api.NextWatchAsync();

        Assert.That(api.Lists, Has.Count.EqualTo(2));
        Assert.That(watch.Request.Query["resourceVersion"], Is.EqualTo("688"));
        Assert.That(Show(agents), Is.EqualTo("node-a=10.244.1.8:9101 node-c=[fd00:10:244:3::7]:9101 node-d=10.244.4.2:9101"));
    }

    [Test]
    public async Task AWatchTheServerEnds_IsOpenedAgainFromTheLastVersion_WithoutAList()
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        api.ServeList(RecordedApiServer.Recorded("pods-list.json"));
        using var loggers = CapturingLoggerProvider.CreateFactory(out _);
        await using var agents = Start(api, loggers, "loopvol");

        var first = await api.NextWatchAsync();
        first.Send(Watch[0]);
        first.Send(Watch[1]);
        first.End();
        var second = await api.NextWatchAsync();

        Assert.That(second.Request.Query["resourceVersion"], Is.EqualTo("635"));
        Assert.That(api.Lists, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task TheApiGoingAway_KeepsTheAgents_LogsOnce_BacksOff_ThenWatchesOnFromWhereItWas()
    {
        var api = await RecordedApiServer.StartAsync(_ca);
        api.ServeList(RecordedApiServer.Recorded("pods-list.json"));
        using var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var time = new HurriedTime();
        await using var agents = Start(api, loggers, "loopvol", time);
        var watch = await api.NextWatchAsync();
        watch.Send(Watch[0]);
        await ReachAsync(agents, "629");
        var known = Show(agents);

        var port = api.Port;
        await api.DisposeAsync();
        await UntilAsync(() => time.Waits.Count >= 6);
        var during = Show(agents);
        await using var back = await RecordedApiServer.StartAsync(_ca, port);
        var again = await back.NextWatchAsync();
        again.Send(Watch[1]);
        await ReachAsync(agents, "635");

        Assert.That(during, Is.EqualTo(known).And.Contains("node-c"), "the agents known stay while the API is away");
        Assert.That(time.Waits.Take(6), Is.EqualTo(new[] { 1, 2, 4, 8, 8, 8 }.Select(s => TimeSpan.FromSeconds(s))),
            "the backoff doubles up to its maximum");
        Assert.That(logs.Lines.Count(l => l.Text.StartsWith("the Kubernetes API cannot be reached", StringComparison.Ordinal)),
            Is.EqualTo(1), "logged once per outage");
        Assert.That(logs.Lines.Count(l => l.Text.StartsWith("the Kubernetes API answers again", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(again.Request.Query["resourceVersion"], Is.EqualTo("629"), "the watch goes on from where it was");
        Assert.That(back.Lists, Is.Empty, "no list needed");
        Assert.That(Show(agents), Is.EqualTo(known));
    }

    [Test]
    public async Task TheNamespace_IsTheKubeconfigContextsUnlessGiven()
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        using var loggers = CapturingLoggerProvider.CreateFactory(out _);
        var kubeconfig = api.WriteKubeconfig(_dir.Path, _ca, "from-context");

        await using (var fromContext = KubernetesAgents.Start(new KubernetesAgentsOptions { LabelSelector = Selector, KubeconfigPath = kubeconfig }, loggers))
        {
            await fromContext.Listed.WaitAsync(Patience);
        }
        await using (var given = KubernetesAgents.Start(new KubernetesAgentsOptions { LabelSelector = Selector, KubeconfigPath = kubeconfig, Namespace = "given" }, loggers))
        {
            await given.Listed.WaitAsync(Patience);
        }

        Assert.That(api.Lists.Select(r => r.Path), Is.EqualTo(new[] { "/api/v1/namespaces/from-context/pods", "/api/v1/namespaces/given/pods" }));
    }

    [Test]
    public async Task APodWithoutTheAgentPort_GivesNoAgent_AndIsLoggedOnce()
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        api.ServeList(RecordedApiServer.Recorded("pods-list.json"));
        using var loggers = CapturingLoggerProvider.CreateFactory(out var logs);
        var options = new KubernetesAgentsOptions
        {
            LabelSelector = Selector, KubeconfigPath = api.WriteKubeconfig(_dir.Path, _ca, "loopvol"), PortName = "grpc",
        };
        await using var agents = KubernetesAgents.Start(options, loggers);
        var watch = await api.NextWatchAsync();
        watch.Send(Watch[0]);
        watch.Send(Watch[1]);
        await ReachAsync(agents, "635");

        Assert.That(agents.Agents, Is.Empty);
        Assert.That(logs.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Text), Is.EquivalentTo(new[]
        {
            "pod loopvol/loopvol-node-2pw2c is running but gives no node agent: it has no container port named 'grpc' (1 to 65535)",
            "pod loopvol/loopvol-node-6k8mx is running but gives no node agent: it has no container port named 'grpc' (1 to 65535)",
            "pod loopvol/loopvol-node-4kj7q is running but gives no node agent: it has no container port named 'grpc' (1 to 65535)",
        }));
    }

    [TestCase("", null, "the label selector of the node agents' pods is required (--agents-selector)")]
    [TestCase(Selector, null, "the namespace of the node agents' pods cannot be told: give it (--agents-namespace)")]
    [TestCase(Selector, "Loopvol_System", "namespace 'Loopvol_System' is no DNS label")]
    public async Task Start_RefusesWhatItCannotUse_NamingIt(string selector, string? ns, string message)
    {
        await using var api = await RecordedApiServer.StartAsync(_ca);
        using var loggers = CapturingLoggerProvider.CreateFactory(out _);
        var options = new KubernetesAgentsOptions
        {
            LabelSelector = selector, Namespace = ns, KubeconfigPath = api.WriteKubeconfig(_dir.Path, _ca, null),
        };

        Assert.That(() => KubernetesAgents.Start(options, loggers), Throws.TypeOf<FormatException>().With.Message.Contains(message));
    }

    [Test]
    public void Start_WithAMissingKubeconfig_OrOutsideACluster_NamesIt()
    {
        using var loggers = CapturingLoggerProvider.CreateFactory(out _);
        var missing = _dir.Combine("no-kubeconfig");

        Assert.That(() => KubernetesAgents.Start(new KubernetesAgentsOptions { LabelSelector = Selector, KubeconfigPath = missing }, loggers),
            Throws.TypeOf<FormatException>().With.Message.EqualTo($"kubeconfig {missing} does not exist"));
        Assert.That(() => KubernetesAgents.Start(new KubernetesAgentsOptions { LabelSelector = Selector }, loggers),
            Throws.TypeOf<FormatException>().With.Message.StartsWith("not in a Kubernetes pod"), "this test runs outside a pod");
    }

    private KubernetesAgents Start(RecordedApiServer api, ILoggerFactory loggers, string ns, TimeProvider? time = null) =>
        KubernetesAgents.Start(new KubernetesAgentsOptions
        {
            LabelSelector = Selector,
            KubeconfigPath = api.WriteKubeconfig(_dir.Path, _ca, ns),
            MaxBackoff = TimeSpan.FromSeconds(8),
            Time = time ?? new HurriedTime(),
        }, loggers);

    private static string Show(KubernetesAgents agents) => string.Join(' ', agents.Agents.Select(a => $"{a.NodeId}={a.Url.Authority}"));

    private static string VersionOf(string line) =>
        JsonDocument.Parse(line).RootElement.GetProperty("object").GetProperty("metadata").GetProperty("resourceVersion").GetString()!;

    private static Task ReachAsync(KubernetesAgents agents, string version) => UntilAsync(() => agents.ResourceVersion == version);

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"not reached within {Patience.TotalSeconds}s");
            }
            await Task.Delay(10);
        }
    }
}
