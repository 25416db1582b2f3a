using System.Globalization;
using System.Text.RegularExpressions;

namespace Loopvol.Tests.Support;

/// <summary>
/// One scrape in the Prometheus text format, parsed: the metric families it declares and every sample with its
/// labels. Enough of the format for the driver's own output (no escaped quotes in label values).
/// </summary>
public sealed partial class Exposition
{
    private readonly List<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> _samples = [];

    public Exposition(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (TypeLine().Match(line) is { Success: true } type)
            {
                Families[type.Groups["name"].Value] = type.Groups["type"].Value;
            }
            else if (SampleLine().Match(line) is { Success: true } sample)
            {
                var labels = LabelPair().Matches(sample.Groups["labels"].Value)
                    .ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
                _samples.Add((sample.Groups["name"].Value, labels,
                    double.Parse(sample.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)));
            }
        }
    }

    public string Text { get; }

    /// <summary>Metric family name → its declared type (counter, gauge, histogram).</summary>
    public Dictionary<string, string> Families { get; } = new(StringComparer.Ordinal);

    /// <summary>The families of the driver's own meter (not the exporter's <c>target_info</c>).</summary>
    public IEnumerable<string> LoopvolFamilies => Families.Keys.Where(n => n.StartsWith("loopvol_", StringComparison.Ordinal));

    /// <summary>The sum of the samples named <paramref name="name"/> whose labels include <paramref name="labels"/> ("key=value").</summary>
    public double Sum(string name, params string[] labels) => Matching(name, labels).Sum(s => s.Value);

    /// <summary>Whether any sample is named <paramref name="name"/> with <paramref name="labels"/>.</summary>
    public bool Has(string name, params string[] labels) => Matching(name, labels).Any();

    public IEnumerable<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> Samples => _samples;

    private IEnumerable<(string Name, IReadOnlyDictionary<string, string> Labels, double Value)> Matching(string name,
        string[] labels) => _samples.Where(s => s.Name == name && labels.All(l =>
        l.Split('=', 2) is [var key, var value] && s.Labels.TryGetValue(key, out var v) && v == value));

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>[^""]*)""")]
    private static partial Regex LabelPair();
}
