using System.Text.Json;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// The Grafana dashboard (charts/loopvol/dashboards/loopvol.json): a dashboard Grafana loads, whose every query reads
/// metrics of docs/metrics.md's table, shipped unchanged by the chart and by the kustomization.
/// </summary>
public sealed class DashboardTests
{
    private static readonly string File = Path.Combine(Rendered.Root, "charts", "loopvol", "dashboards", "loopvol.json");

    private static JsonElement Load() => JsonDocument.Parse(System.IO.File.ReadAllText(File)).RootElement;

    // Every panel, those nested in a collapsed row included; rows themselves too.
    private static IEnumerable<JsonElement> Panels(JsonElement dashboard) => dashboard.GetProperty("panels").EnumerateArray()
        .SelectMany(p => p.TryGetProperty("panels", out var nested) ? [p, .. nested.EnumerateArray()] : new[] { p });

    private static IEnumerable<JsonElement> Variables(JsonElement dashboard) =>
        dashboard.GetProperty("templating").GetProperty("list").EnumerateArray();

    private static string Title(JsonElement panel) => panel.GetProperty("title").GetString()!;

    private static bool IsRow(JsonElement panel) => panel.GetProperty("type").GetString() == "row";

    private static IEnumerable<(string Where, string Expr)> Queries(JsonElement dashboard) =>
        Panels(dashboard).Where(p => !IsRow(p)).SelectMany(p => p.GetProperty("targets").EnumerateArray()
                .Select(t => (Title(p), t.GetProperty("expr").GetString()!)))
            .Concat(Variables(dashboard).Where(v => v.GetProperty("type").GetString() == "query")
                .Select(v => ($"variable {v.GetProperty("name").GetString()}", PromQl.OfVariableQuery(VariableQuery(v)))));

    // A query variable's query: a string, or an object holding it (the form Grafana 10 saves).
    private static string VariableQuery(JsonElement variable)
    {
        var query = variable.GetProperty("query");
        return query.ValueKind == JsonValueKind.String ? query.GetString()! : query.GetProperty("query").GetString()!;
    }

    [Test]
    public void Dashboard_HasAPrometheusDatasourceVariableAndAnInstanceVariable()
    {
        var dashboard = Load();
        var variables = Variables(dashboard).ToDictionary(v => v.GetProperty("name").GetString()!);

        Assert.That(dashboard.GetProperty("schemaVersion").GetInt32(), Is.InRange(36, 41));
        Assert.That(dashboard.GetProperty("uid").GetString(), Is.EqualTo("loopvol"));
        Assert.That(variables["datasource"].GetProperty("type").GetString(), Is.EqualTo("datasource"));
        Assert.That(variables["datasource"].GetProperty("query").GetString(), Is.EqualTo("prometheus"));
        Assert.That(variables["instance"].GetProperty("type").GetString(), Is.EqualTo("query"));
        Assert.That(variables["instance"].GetProperty("datasource").GetProperty("uid").GetString(), Is.EqualTo("${datasource}"));
    }

    [Test]
    public void EveryPanel_HasATarget_OnTheDatasourceVariable_AndFiltersByInstance()
    {
        var panels = Panels(Load()).ToList();

        Assert.That(panels.Count(p => !IsRow(p)), Is.GreaterThanOrEqualTo(15));
        Assert.That(panels.Select(p => p.GetProperty("id").GetInt32()), Is.Unique);
        Assert.Multiple(() =>
        {
            foreach (var panel in panels.Where(p => !IsRow(p)))
            {
                var targets = panel.GetProperty("targets").EnumerateArray().ToList();
                Assert.That(targets, Is.Not.Empty, Title(panel));
                Assert.That(targets.Select(t => t.GetProperty("refId").GetString()), Is.Unique, Title(panel));
                Assert.That(panel.GetProperty("datasource").GetProperty("uid").GetString(), Is.EqualTo("${datasource}"), Title(panel));
                foreach (var target in targets)
                {
                    Assert.That(target.GetProperty("datasource").GetProperty("uid").GetString(), Is.EqualTo("${datasource}"), Title(panel));
                    Assert.That(target.GetProperty("expr").GetString(), Does.Contain("instance=~\"$instance\""), Title(panel));
                }
            }
        });
    }

    [Test]
    public void Panels_FitTheGrid_WithoutOverlapping()
    {
        var boxes = Panels(Load()).Select(p => (Title: Title(p), Box: p.GetProperty("gridPos"))).Select(p => (p.Title,
            X: p.Box.GetProperty("x").GetInt32(), Y: p.Box.GetProperty("y").GetInt32(),
            W: p.Box.GetProperty("w").GetInt32(), H: p.Box.GetProperty("h").GetInt32())).ToList();

        Assert.That(boxes.Where(b => b.X < 0 || b.W <= 0 || b.H <= 0 || b.X + b.W > 24).Select(b => b.Title), Is.Empty);
        var overlaps = from a in boxes
                       from b in boxes
                       where string.CompareOrdinal(a.Title, b.Title) < 0 &&
                             a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H
                       select $"{a.Title} / {b.Title}";
        Assert.That(overlaps, Is.Empty);
    }

    [Test]
    public void EveryQuery_NamesOnlyMetricsOfTheDocsTable()
    {
        var doc = MetricsDoc.Load();
        var queries = Queries(Load()).ToList();

        var unknown = queries.SelectMany(q => PromQl.MetricNames(q.Expr).Where(m => !doc.Names(m)).Select(m => $"{q.Where}: {m}"));
        var empty = queries.Where(q => !q.Where.StartsWith("variable", StringComparison.Ordinal) && PromQl.MetricNames(q.Expr).Count == 0);

        Assert.That(unknown, Is.Empty, "metrics docs/metrics.md does not list (a histogram only by _bucket, _sum, _count)");
        Assert.That(empty.Select(q => q.Where), Is.Empty, "panel queries that read no metric");
    }

    [Test]
    public void EveryMetricOfTheDocsTable_IsOnTheDashboard()
    {
        var doc = MetricsDoc.Load();
        var shown = Queries(Load()).SelectMany(q => PromQl.MetricNames(q.Expr)).Select(doc.MetricOf).ToHashSet();

        Assert.That(doc.Types.Keys.Where(m => !shown.Contains(m)), Is.Empty);
    }

    [Test]
    public async Task ChartAndKustomization_ShipTheDashboardFile_ForGrafanasSidecar()
    {
        var file = await System.IO.File.ReadAllTextAsync(File);
        var helm = (await Rendered.HelmAsync()).One("ConfigMap");
        var kustomize = (await Rendered.KustomizeAsync()).One("ConfigMap");

        foreach (var map in new[] { helm, kustomize })
        {
            Assert.That(map.GetProperty("metadata").GetProperty("name").GetString(), Is.EqualTo("loopvol-dashboard"));
            Assert.That(map.GetProperty("metadata").GetProperty("namespace").GetString(), Is.EqualTo("loopvol"));
            Assert.That(Rendered.Map(map.GetProperty("metadata"), "labels")["grafana_dashboard"], Is.EqualTo("1"));
            Assert.That(map.GetProperty("data").EnumerateObject().Select(d => d.Name), Is.EqualTo(new[] { "loopvol.json" }));
            Assert.That(map.GetProperty("data").GetProperty("loopvol.json").GetString(), Is.EqualTo(file), "byte for byte");
        }
    }

    [Test]
    public async Task DashboardLabelAndAnnotations_ComeFromTheValues()
    {
        var map = (await Rendered.HelmAsync(Path.Combine(AppContext.BaseDirectory, "Deploy", "metrics-servicemonitor-values.yaml")))
            .One("ConfigMap").GetProperty("metadata");

        Assert.That(Rendered.Map(map, "labels"), Does.ContainKey("example.org/dashboard").WithValue("loopvol"));
        Assert.That(Rendered.Map(map, "labels"), Does.Not.ContainKey("grafana_dashboard"));
        Assert.That(Rendered.Map(map, "annotations"), Does.ContainKey("grafana_folder").WithValue("Storage"));
    }
}
