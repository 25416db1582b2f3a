using System.Globalization;
using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// Metrics in the manifests: the driver's <c>--metrics-address</c> and the port it names, the Service, ServiceMonitor
/// and PodMonitor that scrape it, and the PrometheusRule against docs/metrics.md and promtool.
/// </summary>
public sealed partial class DeploymentTests
{
    private const string ServiceMonitorValues = "metrics-servicemonitor-values.yaml";
    private const string PodMonitorValues = "metrics-podmonitor-values.yaml";

    private static IEnumerable<TestCaseData> MetricsRenders()
    {
        yield return new TestCaseData("kustomize", null, 9809, true).SetName("Kustomization_ServesMetricsOnThePortItNames");
        yield return new TestCaseData("helm", null, 9809, true).SetName("ChartDefaults_ServeMetricsOnThePortTheyName");
        yield return new TestCaseData("helm", ServiceMonitorValues, 9819, false).SetName("ChartServiceMonitor_ServesMetricsOnThePortItNames");
        yield return new TestCaseData("helm", PodMonitorValues, 9809, true).SetName("ChartPodMonitor_ServesMetricsOnThePortItNames");
    }

    [TestCaseSource(nameof(MetricsRenders))]
    public async Task Render_ServesMetricsOnThePortItNames(string tool, string? values, int port, bool annotated)
    {
        var r = await RenderAsync(tool, values);
        var driver = r.Container("loopvol");
        var pod = r.PodTemplate.GetProperty("spec");

        Assert.Multiple(() =>
        {
            // Every address is the pod's own only because the pod has its own network namespace.
            Assert.That(pod.TryGetProperty("hostNetwork", out var host) && host.GetBoolean(), Is.False);
            Assert.That(Rendered.Arg(driver, "--metrics-address"), Is.EqualTo($":{port}"));
            Assert.That(Rendered.Port(driver, "metrics"), Is.EqualTo(port));
            Assert.That(r.Containers.SelectMany(Rendered.Ports).Count(p => p.Number == port), Is.EqualTo(1),
                "no other port of the pod takes the metrics port");
            Assert.That(Rendered.Arg(r.Container("liveness-probe"), "--health-port"),
                Is.EqualTo(Rendered.Port(driver, "healthz")?.ToString(CultureInfo.InvariantCulture)));
            var scrape = r.PodAnnotations.Where(a => a.Key.StartsWith("prometheus.io/", StringComparison.Ordinal)).ToDictionary();
            Assert.That(scrape, annotated
                ? Is.EquivalentTo(new Dictionary<string, string>
                {
                    ["prometheus.io/scrape"] = "true",
                    ["prometheus.io/port"] = port.ToString(CultureInfo.InvariantCulture),
                    ["prometheus.io/path"] = "/metrics",
                })
                : Is.Empty);
        });
    }

    [Test]
    public async Task MetricsOff_RendersNoFlagNoPortAndNoMetricsObject()
    {
        var r = await Rendered.HelmAsync(Values("metrics-off-values.yaml"));
        var driver = r.Container("loopvol");

        Assert.That(Rendered.Arg(driver, "--metrics-address"), Is.Null);
        Assert.That(Rendered.Port(driver, "metrics"), Is.Null);
        Assert.That(r.PodAnnotations.Keys, Has.None.StartsWith("prometheus.io/"));
        Assert.That(r.Objects.Select(o => o.GetProperty("kind").GetString()),
            Has.None.AnyOf("Service", "ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"));
    }

    [Test]
    public async Task ServiceMonitor_ScrapesTheDriverPods_ByTheMetricsPort()
    {
        var r = await Rendered.HelmAsync(Values(ServiceMonitorValues));
        var service = r.One("Service");
        var monitor = r.One("ServiceMonitor");
        var servicePort = service.GetProperty("spec").GetProperty("ports").EnumerateArray().Single();

        Assert.Multiple(() =>
        {
            Assert.That(Rendered.Map(service.GetProperty("spec"), "selector"), Is.Not.Empty.And.SubsetOf(r.PodLabels));
            Assert.That(service.GetProperty("spec").GetProperty("clusterIP").GetString(), Is.EqualTo("None"), "headless");
            Assert.That(servicePort.GetProperty("name").GetString(), Is.EqualTo("metrics"));
            Assert.That(servicePort.GetProperty("targetPort").GetString(), Is.EqualTo("metrics"));
            Assert.That(servicePort.GetProperty("port").GetInt32(), Is.EqualTo(Rendered.Port(r.Container("loopvol"), "metrics")));
            Assert.That(Rendered.Map(monitor.GetProperty("spec").GetProperty("selector"), "matchLabels"),
                Is.Not.Empty.And.SubsetOf(Rendered.Map(service.GetProperty("metadata"), "labels")));
            Assert.That(Namespace(monitor), Is.EqualTo(Namespace(service)));
            Assert.That(Endpoints(monitor, "endpoints"), Is.EqualTo(new[] { ("metrics", "/metrics", "15s") }));
            Assert.That(Rendered.Map(monitor.GetProperty("metadata"), "labels")["release"], Is.EqualTo("kube-prometheus-stack"));
            Assert.That(r.OfKind("PodMonitor"), Is.Empty);
        });
    }

    [Test]
    public async Task PodMonitor_ScrapesTheDriverPods_ByTheMetricsPort()
    {
        var r = await Rendered.HelmAsync(Values(PodMonitorValues));
        var monitor = r.One("PodMonitor");

        Assert.Multiple(() =>
        {
            Assert.That(Rendered.Map(monitor.GetProperty("spec").GetProperty("selector"), "matchLabels"),
                Is.Not.Empty.And.SubsetOf(r.PodLabels));
            Assert.That(Namespace(monitor), Is.EqualTo(Namespace(r.One("DaemonSet"))));
            Assert.That(Endpoints(monitor, "podMetricsEndpoints"), Is.EqualTo(new[] { ("metrics", "/metrics", "30s") }));
            Assert.That(Rendered.Map(monitor.GetProperty("metadata"), "labels")["team"], Is.EqualTo("storage"));
            Assert.That(r.OfKind("ServiceMonitor").Concat(r.OfKind("Service")), Is.Empty);
        });
    }

    [Test]
    public async Task BothMonitors_AreRefused()
    {
        var (exit, text) = await Processes.RunExpectingFailureAsync(Rendered.Helm, [
            "template", "loopvol", Path.Combine(Rendered.Root, "charts", "loopvol"),
            "--set", "metrics.serviceMonitor.enabled=true,metrics.podMonitor.enabled=true",
        ]);

        Assert.That(exit, Is.Not.Zero);
        Assert.That(text, Does.Contain("scraped twice"));
    }

    [TestCase(ServiceMonitorValues)]
    [TestCase(PodMonitorValues)]
    public async Task PrometheusRule_PassesPromtoolCheckRules(string values)
    {
        using var dir = new TempDirectory();
        var rules = await WriteRulesAsync(await Rendered.HelmAsync(Values(values)), dir);

        var output = await Processes.RunAsync("promtool", ["check", "rules", rules]);

        Assert.That(output, Does.Contain("SUCCESS: 7 rules found"));
    }

    [Test]
    public async Task PrometheusRule_HasTheAlertsOfTheDocs()
    {
        var doc = MetricsDoc.Load();
        var rules = Rules(await Rendered.HelmAsync(Values(ServiceMonitorValues)));

        Assert.That(rules.Select(a => a.Name), Is.EqualTo(doc.Alerts.Select(a => a.Name)));
        Assert.Multiple(() =>
        {
            foreach (var (alert, documented) in rules.Zip(doc.Alerts))
            {
                Assert.That(alert.Expr, Is.EqualTo(documented.Expr), alert.Name);
                Assert.That(alert.For, Is.EqualTo(documented.For), alert.Name);
                Assert.That(PromQl.MetricNames(alert.Expr), Is.Not.Empty.And.All.Matches<string>(doc.Names), alert.Name);
            }
        });
    }

    [Test]
    public async Task PrometheusRuleThresholds_ComeFromTheValues()
    {
        var rules = Rules(await Rendered.HelmAsync(Values(PodMonitorValues))).ToDictionary(a => a.Name, a => a.Expr);

        Assert.That(rules["LoopvolPoolFilling"], Does.EndWith("> 0.8"));
        Assert.That(rules["LoopvolOvercommitted"], Does.EndWith("* 0.95"));
        Assert.That(rules["LoopvolErrors"], Does.EndWith("> 0.5"));
        Assert.That(rules["LoopvolSlowCommits"], Does.EndWith("> 0.25"));
    }

    [Test]
    public async Task Alerts_FireOnSeriesShapedLikeTheScrape()
    {
        using var dir = new TempDirectory();
        await WriteRulesAsync(await Rendered.HelmAsync(Values(ServiceMonitorValues)), dir);
        File.Copy(Values("alerts-test.yaml"), dir.Combine("alerts-test.yaml"));

        var output = await Processes.RunAsync("promtool", ["test", "rules", dir.Combine("alerts-test.yaml")]);

        Assert.That(output, Does.Contain("SUCCESS"));
    }

    private static async Task<Rendered> RenderAsync(string tool, string? values) =>
        tool == "kustomize" ? await Rendered.KustomizeAsync() : await Rendered.HelmAsync(values is null ? null : Values(values));

    private static string? Namespace(JsonElement o) => o.GetProperty("metadata").GetProperty("namespace").GetString();

    private static IEnumerable<(string?, string?, string?)> Endpoints(JsonElement monitor, string property) =>
        monitor.GetProperty("spec").GetProperty(property).EnumerateArray().Select(e => (e.GetProperty("port").GetString(),
            e.GetProperty("path").GetString(), e.GetProperty("interval").GetString()));

    // The PrometheusRule's spec.groups as a rule file promtool reads (JSON is YAML).
    private static async Task<string> WriteRulesAsync(Rendered r, TempDirectory dir)
    {
        var file = dir.Combine("rules.json");
        var groups = r.One("PrometheusRule").GetProperty("spec").GetProperty("groups");
        await File.WriteAllTextAsync(file, $"{{\"groups\": {groups.GetRawText()}}}");
        return file;
    }

    private static List<DocumentedAlert> Rules(Rendered r) => r.One("PrometheusRule").GetProperty("spec").GetProperty("groups")
        .EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())
        .Select(a => new DocumentedAlert(a.GetProperty("alert").GetString()!, a.GetProperty("expr").GetString()!,
            a.TryGetProperty("for", out var f) ? f.GetString() : null))
        .ToList();
}
