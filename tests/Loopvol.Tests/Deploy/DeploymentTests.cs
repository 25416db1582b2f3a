using System.Text.Json;
using System.Text.RegularExpressions;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>The manifests and the chart: lint, render, and the invariants that break real clusters when they slip.</summary>
public sealed partial class DeploymentTests
{
    private static string Values(string name) => Path.Combine(AppContext.BaseDirectory, "Deploy", name);

    private static IEnumerable<TestCaseData> Renders()
    {
        yield return new TestCaseData("kustomize", null).SetName("Kustomization_KeepsTheInvariants");
        yield return new TestCaseData("helm", null).SetName("ChartDefaults_KeepTheInvariants");
        yield return new TestCaseData("helm", "custom-values.yaml").SetName("ChartCustomValues_KeepTheInvariants");
        yield return new TestCaseData("helm", ServiceMonitorValues).SetName("ChartServiceMonitor_KeepsTheInvariants");
        yield return new TestCaseData("helm", PodMonitorValues).SetName("ChartPodMonitor_KeepsTheInvariants");
    }

    [TestCase(null)]
    [TestCase("custom-values.yaml")]
    [TestCase(ServiceMonitorValues)]
    [TestCase(PodMonitorValues)]
    [TestCase("metrics-off-values.yaml")]
    [TestCase(CentralValues)]
    [TestCase(CentralCustomValues)]
    [TestCase(CentralSecretsValues)]
    [TestCase(MetadataValues)]
    [TestCase(MetadataExistingValues)]
    public async Task HelmLint_Passes(string? values)
    {
        var output = await Processes.RunAsync(Rendered.Helm, [
            "lint", Path.Combine(Rendered.Root, "charts", "loopvol"), .. values is null ? Array.Empty<string>() : ["--values", Values(values)],
        ]);

        Assert.That(output, Does.Contain("0 chart(s) failed"));
    }

    [Test]
    public async Task HelmLint_ValuesOutsideTheSchema_Fail()
    {
        var (exit, text) = await Processes.RunExpectingFailureAsync(Rendered.Helm,
            ["lint", Path.Combine(Rendered.Root, "charts", "loopvol"), "--values", Values("invalid-values.yaml")]);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(text, Does.Contain("colour").Or.Contain("latest"));
    }

    [TestCaseSource(nameof(Renders))]
    public async Task Render_KeepsTheInvariants(string tool, string? values)
    {
        var r = tool == "kustomize" ? await Rendered.KustomizeAsync() : await Rendered.HelmAsync(values is null ? null : Values(values));
        var driver = r.Container("loopvol");
        var name = Rendered.Arg(driver, "--drivername")!;

        Assert.Multiple(() =>
        {
            // One driver name everywhere.
            Assert.That(r.One("CSIDriver").GetProperty("metadata").GetProperty("name").GetString(), Is.EqualTo(name));
            Assert.That(r.One("StorageClass").GetProperty("provisioner").GetString(), Is.EqualTo(name));
            Assert.That(r.OfKind("VolumeSnapshotClass").Concat(r.OfKind("VolumeGroupSnapshotClass"))
                .Select(c => c.GetProperty("driver").GetString()), Is.All.EqualTo(name));
            // The mutable parameter's two values, for the same driver.
            var attributes = r.OfKind("VolumeAttributesClass").ToList();
            Assert.That(attributes.Select(c => c.GetProperty("driverName").GetString()), Is.All.EqualTo(name));
            Assert.That(attributes.Select(c => c.GetProperty("parameters").GetProperty("provisioning").GetString()),
                Is.EquivalentTo(new[] { "thick", "thin" }));

            // One socket for the driver and every sidecar, and the path kubelet is told matches the host directory.
            Assert.That(Rendered.Arg(driver, "--endpoint"), Is.EqualTo("unix:///csi/csi.sock"));
            foreach (var sidecar in r.Containers.Where(c => c.GetProperty("name").GetString() != "loopvol"))
            {
                Assert.That(Rendered.Arg(sidecar, "--csi-address"), Is.EqualTo("/csi/csi.sock"), sidecar.GetProperty("name").GetString());
            }
            foreach (var container in r.Containers)
            {
                Assert.That(Mounts(container).Single(m => m.Name == "socket-dir").Path, Is.EqualTo("/csi"));
            }
            var kubelet = r.HostPath("kubelet-dir");
            Assert.That(r.HostPath("socket-dir"), Is.EqualTo($"{kubelet}/plugins/{name}"));
            Assert.That(Rendered.Arg(r.Container("node-driver-registrar"), "--kubelet-registration-path"),
                Is.EqualTo($"{kubelet}/plugins/{name}/csi.sock"));
            Assert.That(r.HostPath("registration-dir"), Is.EqualTo($"{kubelet}/plugins_registry"));

            // Mounts made in the driver must reach kubelet and the pods.
            var kubeletMount = Mounts(driver).Single(m => m.Name == "kubelet-dir");
            Assert.That(kubeletMount.Propagation, Is.EqualTo("Bidirectional"));
            Assert.That(kubeletMount.Path, Is.EqualTo(kubelet));
            Assert.That(driver.GetProperty("securityContext").GetProperty("privileged").GetBoolean(), Is.True);

            // Every image pinned to a version.
            Assert.That(r.Containers.Select(c => c.GetProperty("image").GetString()),
                Has.All.Matches<string>(i => Pinned().IsMatch(i)));

            // Per-node sidecars and what the CSIDriver object promises.
            Assert.That(Rendered.Args(r.Container("csi-provisioner")), Is.SupersetOf(new[]
            {
                "--node-deployment=true", "--enable-capacity", "--strict-topology", "--immediate-topology=false",
            }));
            Assert.That(Rendered.Args(r.Container("csi-snapshotter")), Does.Contain("--node-deployment=true"));
            // csi-resizer starts only once it has listed every pod of the cluster, unless told not to handle "in use".
            var account = r.PodTemplate.GetProperty("spec").GetProperty("serviceAccountName").GetString()!;
            Assert.That(Rendered.Args(r.Container("csi-resizer")).Contains("--handle-volume-inuse-error=false") ||
                new Rbac(r).Allows(account, "loopvol", "", "pods", "list", ns: null), Is.True, "the resizer would never start");
            var spec = r.One("CSIDriver").GetProperty("spec");
            Assert.That(spec.GetProperty("attachRequired").GetBoolean(), Is.False, "no ControllerPublish without --enable-attach");
            Assert.That(spec.GetProperty("storageCapacity").GetBoolean(), Is.True);
            Assert.That(r.One("StorageClass").GetProperty("volumeBindingMode").GetString(), Is.EqualTo("WaitForFirstConsumer"));
            Assert.That(r.One("StorageClass").GetProperty("allowVolumeExpansion").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task CustomValues_ReachTheObjects()
    {
        var r = await Rendered.HelmAsync(Values("custom-values.yaml"));

        Assert.That(r.OfKind("VolumeGroupSnapshotClass"), Is.Empty);
        Assert.That(r.One("StorageClass").GetProperty("metadata").GetProperty("name").GetString(), Is.EqualTo("fast-local"));
        Assert.That(r.One("StorageClass").GetProperty("parameters").GetProperty("fsType").GetString(), Is.EqualTo("xfs"));
        Assert.That(r.HostPath("data"), Is.EqualTo("/srv/loopvol"));
        Assert.That(r.Container("loopvol").GetProperty("image").GetString(), Is.EqualTo("registry.example.org/storage/loopvol:0.1.0-rc1"));
        var pod = r.One("DaemonSet").GetProperty("spec").GetProperty("template").GetProperty("spec");
        Assert.That(pod.GetProperty("nodeSelector").GetProperty("storage").GetString(), Is.EqualTo("local"));
        Assert.That(pod.GetProperty("tolerations").GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task ChartAndKustomization_RenderTheSameObjects()
    {
        var kustomize = await Rendered.KustomizeAsync();
        var helm = await Rendered.HelmAsync();

        // The chart takes its namespace from the release (helm install --namespace loopvol --create-namespace).
        Assert.That(Keys(helm), Is.EquivalentTo(Keys(kustomize).Where(k => !k.StartsWith("Namespace/", StringComparison.Ordinal))));
        Assert.That(helm.Containers.Select(Describe), Is.EqualTo(kustomize.Containers.Select(Describe)));
        Assert.That(helm.Containers.Select(c => string.Join(',', Rendered.Ports(c))),
            Is.EqualTo(kustomize.Containers.Select(c => string.Join(',', Rendered.Ports(c)))));
        Assert.That(helm.PodAnnotations, Is.EquivalentTo(kustomize.PodAnnotations));
        Assert.That(Normalize(helm.One("ClusterRole")), Is.EqualTo(Normalize(kustomize.One("ClusterRole"))));
        Assert.That(Normalize(helm.One("Role")), Is.EqualTo(Normalize(kustomize.One("Role"))));
    }

    private static IEnumerable<string> Keys(Rendered r) => r.Objects.Select(o =>
        $"{o.GetProperty("kind").GetString()}/{o.GetProperty("metadata").GetProperty("name").GetString()}");

    private static string Describe(JsonElement c) =>
        $"{c.GetProperty("name").GetString()} {c.GetProperty("image").GetString()} {string.Join(' ', Rendered.Args(c))} " +
        string.Join(',', Mounts(c).Select(m => $"{m.Name}:{m.Path}:{m.Propagation}"));

    private static string Normalize(JsonElement e) => JsonSerializer.Serialize(e.GetProperty("rules"));

    private static IEnumerable<(string Name, string Path, string? Propagation)> Mounts(JsonElement container) =>
        container.GetProperty("volumeMounts").EnumerateArray().Select(m => (m.GetProperty("name").GetString()!,
            m.GetProperty("mountPath").GetString()!,
            m.TryGetProperty("mountPropagation", out var p) ? p.GetString() : null));

    [GeneratedRegex(@"^\S+:v?[0-9][0-9A-Za-z._-]*$|^\S+@sha256:[0-9a-f]{64}$")]
    private static partial Regex Pinned();
}
