using System.Text.RegularExpressions;

namespace Loopvol.Tests.Deploy;

/// <summary>
/// docs/metrics.md, the metric contract, read the way a reader reads it: the table of every metric (name and type)
/// and the table of alerts (name, expression, how long it must hold). The dashboard and the chart are checked against
/// it, so the doc stays the one place a metric is named.
/// </summary>
public sealed partial class MetricsDoc
{
    private static readonly string[] HistogramSeries = ["_bucket", "_sum", "_count"];

    private MetricsDoc(IReadOnlyDictionary<string, string> types, IReadOnlyList<DocumentedAlert> alerts)
    {
        Types = types;
        Alerts = alerts;
    }

    /// <summary>Every metric of the table, with its type (histogram, gauge or counter).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public IReadOnlyList<DocumentedAlert> Alerts { get; }

    public static MetricsDoc Load() => Parse(File.ReadAllText(Path.Combine(Rendered.Root, "docs", "metrics.md")));

    public static MetricsDoc Parse(string markdown)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in Rows(markdown, "Every metric"))
        {
            var match = MetricRow().Match(row);
            Assert.That(match.Success, Is.True, $"a row of the metrics table this test cannot read: {row}");
            Assert.That(types.TryAdd(match.Groups["name"].Value, match.Groups["type"].Value), Is.True, $"listed twice: {row}");
        }
        var alerts = new List<DocumentedAlert>();
        foreach (var row in Rows(markdown, "Alerts worth setting"))
        {
            var match = AlertRow().Match(row);
            Assert.That(match.Success, Is.True, $"a row of the alerts table this test cannot read: {row}");
            alerts.Add(new DocumentedAlert(match.Groups["name"].Value, match.Groups["expr"].Value.Replace(@"\|", "|", StringComparison.Ordinal),
                match.Groups["for"].Success ? match.Groups["for"].Value : null));
        }
        Assert.That(types, Is.Not.Empty, "docs/metrics.md has a table of metrics under '## Every metric'");
        Assert.That(alerts, Is.Not.Empty, "docs/metrics.md has a table of alerts under '## Alerts worth setting'");
        return new MetricsDoc(types, alerts);
    }

    /// <summary>
    /// Whether a scrape can hold a series of this name: a gauge or counter of the table by its own name, a histogram only
    /// by its <c>_bucket</c>, <c>_sum</c> and <c>_count</c> series (the bare name of a histogram is no series).
    /// </summary>
    public bool Names(string series)
    {
        if (Types.TryGetValue(series, out var type))
        {
            return type != "histogram";
        }
        return HistogramSeries.Any(suffix => series.EndsWith(suffix, StringComparison.Ordinal) &&
            Types.TryGetValue(series[..^suffix.Length], out var t) && t == "histogram");
    }

    /// <summary>The metric a series name belongs to (a histogram's series name the histogram).</summary>
    public string MetricOf(string series) => Types.ContainsKey(series)
        ? series
        : HistogramSeries.Where(s => series.EndsWith(s, StringComparison.Ordinal)).Select(s => series[..^s.Length]).FirstOrDefault(Types.ContainsKey) ?? series;

    // The body rows of the first table in the section with this heading (header and separator rows skipped).
    private static IEnumerable<string> Rows(string markdown, string heading)
    {
        var lines = markdown.Split('\n');
        var start = Array.FindIndex(lines, l => l.TrimEnd() == "## " + heading);
        Assert.That(start, Is.Not.Negative, $"docs/metrics.md has no '## {heading}' section");
        return lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2);
    }

    [GeneratedRegex(@"^\| `(?<name>[a-z_:][a-z0-9_:]*)` \| (?<type>histogram|gauge|counter) \|")]
    private static partial Regex MetricRow();

    [GeneratedRegex(@"^\| (?<name>[A-Za-z]+) \| `(?<expr>[^`]+)`(?: for (?<for>[0-9]+[smhd]))? \|")]
    private static partial Regex AlertRow();
}

/// <summary>One row of the doc's alerts table.</summary>
public sealed record DocumentedAlert(string Name, string Expr, string? For);
