using System.Text.Json;
using Loopvol.Tests.Support;

namespace Loopvol.Tests.Deploy;

/// <summary>Rendered Kubernetes objects: from the kustomization or the chart, parsed from YAML through PyYAML.</summary>
public sealed class Rendered(IReadOnlyList<JsonElement> objects)
{
    public IReadOnlyList<JsonElement> Objects => objects;

    public static string Root { get; } = FindRoot();

    public static string Helm => Tool("helm");

    public static string Kubectl => Tool("kubectl");

    /// <summary>The kustomization in <paramref name="directory"/>, relative to the repository root.</summary>
    public static async Task<Rendered> KustomizeAsync(string directory = "deploy/kubernetes") =>
        await ParseAsync(await Processes.RunAsync(Kubectl, ["kustomize", Path.Combine(Root, directory)]));

    public static async Task<Rendered> HelmAsync(string? valuesFile = null) =>
        await ParseAsync(await Processes.RunAsync(Helm, [
            "template", "loopvol", Path.Combine(Root, "charts", "loopvol"), "--namespace", "loopvol",
            .. valuesFile is null ? Array.Empty<string>() : ["--values", valuesFile],
        ]));

    public IEnumerable<JsonElement> OfKind(string kind) => objects.Where(o => o.GetProperty("kind").GetString() == kind);

    public JsonElement One(string kind) => OfKind(kind).Single();

    /// <summary>A container of the DaemonSet's pods.</summary>
    public JsonElement Container(string name) => Container("DaemonSet", name);

    /// <summary>A container of the pods of the one workload of this kind (DaemonSet or Deployment).</summary>
    public JsonElement Container(string kind, string name) =>
        ContainersOf(kind).Single(c => c.GetProperty("name").GetString() == name);

    public IEnumerable<JsonElement> Containers => ContainersOf("DaemonSet");

    public IEnumerable<JsonElement> ContainersOf(string kind) =>
        PodTemplateOf(kind).GetProperty("spec").GetProperty("containers").EnumerateArray();

    /// <summary>The DaemonSet's pod template: its metadata and spec.</summary>
    public JsonElement PodTemplate => PodTemplateOf("DaemonSet");

    public JsonElement PodTemplateOf(string kind) => One(kind).GetProperty("spec").GetProperty("template");

    /// <summary>A volume of the pods of the one workload of this kind.</summary>
    public JsonElement Volume(string kind, string name) => PodTemplateOf(kind).GetProperty("spec").GetProperty("volumes")
        .EnumerateArray().Single(v => v.GetProperty("name").GetString() == name);

    /// <summary>The object of this kind and name.</summary>
    public JsonElement Named(string kind, string name) =>
        OfKind(kind).Single(o => o.GetProperty("metadata").GetProperty("name").GetString() == name);

    public IReadOnlyDictionary<string, string> PodLabels => Map(PodTemplate.GetProperty("metadata"), "labels");

    public IReadOnlyDictionary<string, string> PodAnnotations => Map(PodTemplate.GetProperty("metadata"), "annotations");

    /// <summary>A string map of an object (labels, annotations, a selector); empty when it is absent.</summary>
    public static IReadOnlyDictionary<string, string> Map(JsonElement parent, string property) =>
        parent.TryGetProperty(property, out var map)
            ? map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
            : new Dictionary<string, string>();

    /// <summary>The number of the container's port of this name; null when it has none.</summary>
    public static int? Port(JsonElement container, string name) => Ports(container)
        .Where(p => p.Name == name).Select(p => (int?)p.Number).SingleOrDefault();

    public static IEnumerable<(string? Name, int Number)> Ports(JsonElement container) =>
        container.TryGetProperty("ports", out var ports)
            ? ports.EnumerateArray().Select(p => (p.TryGetProperty("name", out var n) ? n.GetString() : null,
                p.GetProperty("containerPort").GetInt32()))
            : [];

    public static IReadOnlyList<string> Args(JsonElement container) =>
        container.TryGetProperty("args", out var args) ? args.EnumerateArray().Select(a => a.GetString()!).ToList() : [];

    public static string? Arg(JsonElement container, string flag) =>
        Args(container).FirstOrDefault(a => a.StartsWith(flag + "=", StringComparison.Ordinal))?[(flag.Length + 1)..];

    public string HostPath(string volume) => One("DaemonSet").GetProperty("spec").GetProperty("template").GetProperty("spec")
        .GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == volume)
        .GetProperty("hostPath").GetProperty("path").GetString()!;

    /// <summary>JSON text of an element with the properties of every object in name order: kustomize sorts them, helm
    /// keeps the template's order.</summary>
    public static string Canonical(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => JsonSerializer.Serialize(p.Name) + ":" + Canonical(p.Value))) + "}",
        JsonValueKind.Array => "[" + string.Join(",", element.EnumerateArray().Select(Canonical)) + "]",
        _ => element.GetRawText(),
    };

    /// <summary>Objects from YAML (one or more documents), e.g. what a script printed.</summary>
    public static async Task<Rendered> ParseAsync(string yaml)
    {
        using var dir = new TempDirectory();
        var file = dir.Combine("objects.yaml");
        await File.WriteAllTextAsync(file, yaml);
        var json = await Processes.RunAsync("/usr/bin/python3", ["-c",
            "import sys, json, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))", file]);
        return new Rendered(JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.Clone()).ToList());
    }

    private static string Tool(string name)
    {
        var path = Path.Combine(Root, ".tools", "k8s", name, name);
        Assert.That(File.Exists(path), Is.True, $"{path} is missing: the README test command installs helm and kubectl");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CsiDriver.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (CsiDriver.sln) was not found");
    }
}
