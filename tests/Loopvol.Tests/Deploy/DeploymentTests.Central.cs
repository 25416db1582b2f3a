using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// The central mode (issue 15): a controller Deployment with the stock sidecars, leader-elected, on one socket, and a
/// DaemonSet of node agents; the flags of the two sides agree with each other and with the objects they name.
/// </summary>
public sealed partial class DeploymentTests
{
    private const string CentralValues = "central-values.yaml";
    private const string CentralCustomValues = "central-custom-values.yaml";
    private const string CentralSecretsValues = "central-existing-secrets-values.yaml";
    private const string CentralKustomization = "deploy/kubernetes/central";

    private static IEnumerable<TestCaseData> CentralRenders()
    {
        // Named by their arguments: each test below takes all four.
        yield return new TestCaseData("kustomize", null).SetArgDisplayNames("kustomize", "central");
        yield return new TestCaseData("helm", CentralValues).SetArgDisplayNames("helm", CentralValues);
        yield return new TestCaseData("helm", CentralCustomValues).SetArgDisplayNames("helm", CentralCustomValues);
        yield return new TestCaseData("helm", CentralSecretsValues).SetArgDisplayNames("helm", CentralSecretsValues);
    }

    private static Task<Rendered> RenderCentralAsync(string tool, string? values) =>
        tool == "kustomize" ? Rendered.KustomizeAsync(CentralKustomization) : Rendered.HelmAsync(Values(values!));

    [TestCaseSource(nameof(CentralRenders))]
    public async Task Central_ControllerRunsTheSidecarsLeaderElected_OnOneSocket(string tool, string? values)
    {
        var r = await RenderCentralAsync(tool, values);
        var controller = r.Container("Deployment", "loopvol");
        var sidecars = r.ContainersOf("Deployment").Where(c => Name(c) != "loopvol").ToList();
        var pod = r.PodTemplateOf("Deployment").GetProperty("spec");

        Assert.Multiple(() =>
        {
            Assert.That(r.ContainersOf("Deployment").Select(Name),
                Is.EquivalentTo(new[] { "loopvol", "csi-provisioner", "csi-snapshotter", "csi-resizer" }));
            Assert.That(Rendered.Args(controller), Does.Contain("--mode=controller"));
            Assert.That(Rendered.Arg(controller, "--drivername"),
                Is.EqualTo(r.One("CSIDriver").GetProperty("metadata").GetProperty("name").GetString()));

            // One socket: the controller serves it, every sidecar dials it, all through one pod-local volume.
            var socket = Rendered.Arg(controller, "--endpoint");
            Assert.That(socket, Does.StartWith("unix:///"));
            var socketDir = Path.GetDirectoryName(socket!["unix://".Length..]);
            foreach (var container in r.ContainersOf("Deployment"))
            {
                Assert.That(Mounts(container).Single(m => m.Name == "socket-dir").Path, Is.EqualTo(socketDir), Name(container));
            }
            Assert.That(r.Volume("Deployment", "socket-dir").TryGetProperty("emptyDir", out _), Is.True);
            foreach (var sidecar in sidecars)
            {
                Assert.That("unix://" + Rendered.Arg(sidecar, "--csi-address"), Is.EqualTo(socket), Name(sidecar));
                Assert.That(Rendered.Args(sidecar), Does.Contain("--leader-election"), Name(sidecar));
                Assert.That(Rendered.Args(sidecar), Has.None.StartsWith("--node-deployment"), Name(sidecar));
            }

            // The sidecars' own settings: topology and capacity, group snapshots, resizing of volumes in use.
            var provisioner = r.Container("Deployment", "csi-provisioner");
            Assert.That(Rendered.Args(provisioner), Is.SupersetOf(new[]
            {
                "--enable-capacity", "--capacity-ownerref-level=2", "--strict-topology", "--extra-create-metadata",
            }));
            Assert.That(Rendered.Args(provisioner), Has.None.StartsWith("--immediate-topology"),
                "Immediate binding needs the default: every node's segment, so the controller can route the create");
            Assert.That(Env(provisioner), Is.SupersetOf(new[] { "NAMESPACE", "POD_NAME" }));
            Assert.That(Rendered.Args(r.Container("Deployment", "csi-snapshotter")), Is.SupersetOf(new[]
            {
                "--extra-create-metadata", "--feature-gates=CSIVolumeGroupSnapshot=true",
            }));
            Assert.That(Rendered.Args(r.Container("Deployment", "csi-resizer")), Does.Contain("--handle-volume-inuse-error=false"));

            // Stateless and unprivileged: no host path, no privilege, a non-root user.
            Assert.That(pod.GetProperty("volumes").EnumerateArray().Where(v => v.TryGetProperty("hostPath", out _)), Is.Empty);
            Assert.That(pod.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean(), Is.True);
            foreach (var container in r.ContainersOf("Deployment"))
            {
                var security = container.GetProperty("securityContext");
                Assert.That(security.TryGetProperty("privileged", out var p) && p.GetBoolean(), Is.False, Name(container));
                Assert.That(security.GetProperty("allowPrivilegeEscalation").GetBoolean(), Is.False, Name(container));
            }
            Assert.That(r.ContainersOf("Deployment").Select(c => c.GetProperty("image").GetString()),
                Has.All.Matches<string>(i => Pinned().IsMatch(i)));
            Assert.That(r.One("Deployment").GetProperty("spec").GetProperty("replicas").GetInt32(), Is.GreaterThanOrEqualTo(1));
        });
    }

    [TestCaseSource(nameof(CentralRenders))]
    public async Task Central_NodeDaemonSet_IsTheNodeRole_WithoutControllerSidecars(string tool, string? values)
    {
        var r = await RenderCentralAsync(tool, values);
        var agent = r.Container("loopvol");
        var kubelet = r.HostPath("kubelet-dir");
        var name = Rendered.Arg(agent, "--drivername");

        Assert.Multiple(() =>
        {
            Assert.That(r.Containers.Select(Name), Is.EquivalentTo(new[] { "loopvol", "node-driver-registrar", "liveness-probe" }));
            Assert.That(Rendered.Args(agent), Does.Contain("--mode=node"));
            Assert.That(Rendered.Arg(agent, "--endpoint"), Is.EqualTo("unix:///csi/csi.sock"));
            Assert.That(Rendered.Arg(agent, "--nodeid"), Is.EqualTo("$(NODE_NAME)"));
            Assert.That(r.HostPath("socket-dir"), Is.EqualTo($"{kubelet}/plugins/{name}"));
            Assert.That(Rendered.Arg(r.Container("node-driver-registrar"), "--kubelet-registration-path"),
                Is.EqualTo($"{kubelet}/plugins/{name}/csi.sock"));
            Assert.That(Mounts(agent).Single(m => m.Name == "kubelet-dir").Propagation, Is.EqualTo("Bidirectional"));
            Assert.That(agent.GetProperty("securityContext").GetProperty("privileged").GetBoolean(), Is.True);

            // The agent endpoint: the port it listens on is the containerPort named agent, and no other port's.
            var endpoint = new Uri(Rendered.Arg(agent, "--agent-endpoint")!);
            Assert.That(endpoint.Scheme, Is.EqualTo("tcp"));
            Assert.That(Rendered.Port(agent, "agent"), Is.EqualTo(endpoint.Port));
            Assert.That(r.Containers.SelectMany(Rendered.Ports).Count(p => p.Number == endpoint.Port), Is.EqualTo(1));
            Assert.That(endpoint.Host, Is.EqualTo("0.0.0.0").Or.EqualTo("[::]"), "every address of the pod: the controller dials the pod IP");
            Assert.That(r.PodTemplate.GetProperty("spec").TryGetProperty("hostNetwork", out var host) && host.GetBoolean(), Is.False);

            // Nothing on the node calls the API.
            Assert.That(r.PodTemplate.GetProperty("spec").GetProperty("automountServiceAccountToken").GetBoolean(), Is.False);
        });
    }

    [TestCaseSource(nameof(CentralRenders))]
    public async Task Central_AgentsSelector_FindsTheNodePodsAndNothingElse(string tool, string? values)
    {
        var r = await RenderCentralAsync(tool, values);
        var controller = r.Container("Deployment", "loopvol");
        var selector = Rendered.Arg(controller, "--agents-selector")!.Split(',')
            .Select(term => term.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        var nodePods = r.PodLabels;
        var controllerPods = Rendered.Map(r.PodTemplateOf("Deployment").GetProperty("metadata"), "labels");

        Assert.Multiple(() =>
        {
            Assert.That(selector, Is.Not.Empty.And.SubsetOf(nodePods));
            Assert.That(selector, Is.Not.SubsetOf(controllerPods));
            Assert.That(Rendered.Arg(controller, "--agents-namespace"), Is.EqualTo(Namespace(r.One("DaemonSet"))));
            // Each workload's selector takes its own pods only, and so do the metrics objects (the node pods).
            Assert.That(Selector(r.One("DaemonSet")), Is.SubsetOf(nodePods).And.Not.SubsetOf(controllerPods));
            Assert.That(Selector(r.One("Deployment")), Is.SubsetOf(controllerPods).And.Not.SubsetOf(nodePods));
        });
    }

    [TestCaseSource(nameof(CentralRenders))]
    public async Task Central_Rbac_GivesTheControllerWhatItsSidecarsNeed_AndTheNodesNothing(string tool, string? values)
    {
        var r = await RenderCentralAsync(tool, values);
        var rbac = new Rbac(r);
        var ns = Namespace(r.One("Deployment"))!;
        var controller = r.PodTemplateOf("Deployment").GetProperty("spec").GetProperty("serviceAccountName").GetString()!;
        var node = r.PodTemplate.GetProperty("spec").GetProperty("serviceAccountName").GetString()!;

        Assert.Multiple(() =>
        {
            foreach (var (group, resource, verbs, namespaced) in ControllerNeeds)
            {
                foreach (var verb in verbs.Split(' '))
                {
                    Assert.That(rbac.Allows(controller, ns, group, resource, verb, namespaced ? ns : null), Is.True,
                        $"{controller} may {verb} {group}/{resource}");
                }
            }
            // Discovery reads the pods of its own namespace, and nobody may read pods anywhere else.
            Assert.That(rbac.Allows(controller, ns, "", "pods", "watch", "kube-system"), Is.False);
            foreach (var (account, accountNs) in rbac.Accounts.Where(a => a != (controller, ns)))
            {
                Assert.That(rbac.Allows(account, accountNs, "", "pods", "list", ns), Is.False, account);
            }
            Assert.That(rbac.BindingsOf(node, ns), Is.Empty, "the node pods' account is bound to nothing");
            Assert.That(r.OfKind("ServiceAccount").Select(a => a.GetProperty("metadata").GetProperty("name").GetString()),
                Is.EquivalentTo(new[] { controller, node }));
        });
    }

    // What csi-provisioner v6.3.0, csi-snapshotter v8.6.0 and csi-resizer v2.2.1 call in their central modes (their
    // deploy/kubernetes RBAC files), and the controller's discovery of the agents: (group, resource, verbs, namespaced).
    private static readonly (string, string, string, bool)[] ControllerNeeds =
    [
        ("", "persistentvolumes", "get list watch create delete patch", false),
        ("", "persistentvolumeclaims", "get list watch update", true),
        ("", "persistentvolumeclaims/status", "patch", true),
        ("", "nodes", "get list watch", false),
        ("", "events", "list watch create update patch", true),
        ("storage.k8s.io", "storageclasses", "get list watch", false),
        ("storage.k8s.io", "csinodes", "get list watch", false),
        ("storage.k8s.io", "volumeattributesclasses", "get list watch", false),
        ("storage.k8s.io", "csistoragecapacities", "get list watch create update patch delete", true),
        ("snapshot.storage.k8s.io", "volumesnapshots", "get list watch update", true),
        ("snapshot.storage.k8s.io", "volumesnapshotclasses", "get list watch", false),
        ("snapshot.storage.k8s.io", "volumesnapshotcontents", "get list watch update patch", false),
        ("snapshot.storage.k8s.io", "volumesnapshotcontents/status", "update patch", false),
        ("groupsnapshot.storage.k8s.io", "volumegroupsnapshotclasses", "get list watch", false),
        ("groupsnapshot.storage.k8s.io", "volumegroupsnapshotcontents", "get list watch update patch", false),
        ("groupsnapshot.storage.k8s.io", "volumegroupsnapshotcontents/status", "update patch", false),
        ("coordination.k8s.io", "leases", "get list watch create update delete", true),
        ("", "pods", "get list watch", true),
        ("apps", "replicasets", "get", true),
    ];

    [Test]
    public async Task ChartAndKustomization_RenderTheSameCentralObjects()
    {
        var kustomize = await Rendered.KustomizeAsync(CentralKustomization);
        var helm = await Rendered.HelmAsync(Values(CentralSecretsValues));

        Assert.That(Keys(helm), Is.EquivalentTo(Keys(kustomize).Where(k => !k.StartsWith("Namespace/", StringComparison.Ordinal))));
        foreach (var kind in new[] { "DaemonSet", "Deployment" })
        {
            Assert.That(helm.ContainersOf(kind).Select(Describe), Is.EqualTo(kustomize.ContainersOf(kind).Select(Describe)), kind);
            Assert.That(helm.ContainersOf(kind).Select(c => string.Join(',', Rendered.Ports(c))),
                Is.EqualTo(kustomize.ContainersOf(kind).Select(c => string.Join(',', Rendered.Ports(c)))), kind);
            Assert.That(Pod(helm, kind), Is.EqualTo(Pod(kustomize, kind)), kind);
        }
        foreach (var role in helm.OfKind("Role").Concat(helm.OfKind("ClusterRole")))
        {
            var (kind, name) = (role.GetProperty("kind").GetString()!, role.GetProperty("metadata").GetProperty("name").GetString()!);
            Assert.That(Normalize(role), Is.EqualTo(Normalize(kustomize.Named(kind, name))), $"{kind}/{name}");
        }
    }

    [Test]
    public async Task PerNodeDefault_RendersNothingOfTheCentralMode()
    {
        var r = await Rendered.HelmAsync();

        Assert.That(r.Objects.Select(o => o.GetProperty("kind").GetString()), Has.None.AnyOf("Deployment", "Secret"));
        Assert.That(Rendered.Args(r.Container("loopvol")), Has.None.StartsWith("--mode").And.None.StartsWith("--tls"));
        Assert.That(Rendered.Port(r.Container("loopvol"), "agent"), Is.Null);
        Assert.That(r.PodLabels, Is.EquivalentTo(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "loopvol" }));
    }

    [TestCase("deployment.mode=Central", "/deployment/mode")]
    [TestCase("deployment.mode=central,deployment.tls.existingSecrets.agent=mine", "give both")]
    [TestCase("deployment.mode=central,deployment.agent.port=9809", "same port")]
    [TestCase("deployment.mode=central,deployment.agent.port=9808", "/deployment/agent/port")]
    [TestCase("deployment.mode=central,deployment.agent.listenAddress=localhost", "listenAddress")]
    [TestCase("deployment.mode=central,deployment.tls.serverName=Not_A_Name", "serverName")]
    [TestCase("deployment.mode=central,deployment.controller.replicas=0", "replicas")]
    public async Task CentralValuesThatCannotWork_AreRefused(string set, string named)
    {
        var (exit, text) = await Processes.RunExpectingFailureAsync(Rendered.Helm,
            ["template", "loopvol", Path.Combine(Rendered.Root, "charts", "loopvol"), "--set", set]);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(text, Does.Contain(named));
    }

    private static string? Name(JsonElement container) => container.GetProperty("name").GetString();

    private static IEnumerable<string> Env(JsonElement container) => container.TryGetProperty("env", out var env)
        ? env.EnumerateArray().Select(e => e.GetProperty("name").GetString()!) : [];

    private static IReadOnlyDictionary<string, string> Selector(JsonElement workload) =>
        Rendered.Map(workload.GetProperty("spec").GetProperty("selector"), "matchLabels");

    // The workload and its pod template, less the containers (compared apart) and what only the chart can know: the
    // checksum of the certificates it generated.
    private static string Pod(Rendered r, string kind)
    {
        var workload = r.One(kind).GetProperty("spec");
        var template = r.PodTemplateOf(kind);
        var annotations = Rendered.Map(template.GetProperty("metadata"), "annotations")
            .Where(a => !a.Key.StartsWith("checksum/", StringComparison.Ordinal));
        var labels = Rendered.Map(template.GetProperty("metadata"), "labels");
        return string.Join('\n', new[]
        {
            Fields(workload, "template"), Fields(template.GetProperty("spec"), "containers"),
            string.Join(',', labels.Concat(annotations).Select(p => $"{p.Key}={p.Value}").Order(StringComparer.Ordinal)),
        });
    }

    private static string Fields(JsonElement o, string except) => string.Join('\n', o.EnumerateObject()
        .Where(p => p.Name != except).Select(p => $"{p.Name}={Rendered.Canonical(p.Value)}").Order(StringComparer.Ordinal));
}
