using System.Text.RegularExpressions;

namespace Loopvol.Tests.Support;

/// <summary>docs/metrics.md's table of every metric: the one list the driver, the dashboard and the alerts are held to.</summary>
public static partial class MetricsDoc
{
    public static string Path => System.IO.Path.Combine(Deploy.Rendered.Root, "docs", "metrics.md");

    /// <summary>Metric name → type (counter, gauge, histogram), in the table's order.</summary>
    public static IReadOnlyDictionary<string, string> Metrics()
    {
        var metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match row in Row().Matches(File.ReadAllText(Path)))
        {
            metrics.Add(row.Groups["name"].Value, row.Groups["type"].Value);
        }
        Assert.That(metrics, Is.Not.Empty, $"{Path} has its table of metrics");
        return metrics;
    }

    [GeneratedRegex(@"^\| `(?<name>loopvol_[a-z_]+)` \| (?<type>counter|gauge|histogram) \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
