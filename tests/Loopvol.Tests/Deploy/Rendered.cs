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

    public static async Task<Rendered> KustomizeAsync() =>
        await ParseAsync(await Processes.RunAsync(Kubectl, ["kustomize", Path.Combine(Root, "deploy", "kubernetes")]));

    public static async Task<Rendered> HelmAsync(string? valuesFile = null) =>
        await ParseAsync(await Processes.RunAsync(Helm, [
            "template", "loopvol", Path.Combine(Root, "charts", "loopvol"), "--namespace", "loopvol",
            .. valuesFile is null ? Array.Empty<string>() : ["--values", valuesFile],
        ]));

    public IEnumerable<JsonElement> OfKind(string kind) => objects.Where(o => o.GetProperty("kind").GetString() == kind);

    public JsonElement One(string kind) => OfKind(kind).Single();

    public JsonElement Container(string name) => One("DaemonSet").GetProperty("spec").GetProperty("template")
        .GetProperty("spec").GetProperty("containers").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public IEnumerable<JsonElement> Containers => One("DaemonSet").GetProperty("spec").GetProperty("template")
        .GetProperty("spec").GetProperty("containers").EnumerateArray();

    /// <summary>The DaemonSet's pod template: its metadata and spec.</summary>
    public JsonElement PodTemplate => One("DaemonSet").GetProperty("spec").GetProperty("template");

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

    private static async Task<Rendered> ParseAsync(string yaml)
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
