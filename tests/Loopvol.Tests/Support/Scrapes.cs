using System.Globalization;
using System.Text.RegularExpressions;

namespace Loopvol.Tests.Support;

/// <summary>The driver's Prometheus metrics endpoint, read as Prometheus reads it: plain HTTP GET of the text format.</summary>
public static partial class Scrapes
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static Task<string> GetAsync(Uri url) => Http.GetStringAsync(url);

    public static Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => Http.SendAsync(request);

    /// <summary>The scrape URL the driver logged when its metrics listener started.</summary>
    public static Uri UrlIn(string driverOutput)
    {
        var match = ServingLine().Match(driverOutput);
        Assert.That(match.Success, Is.True, () => $"the driver logs where it serves metrics:\n{driverOutput}");
        return new Uri(match.Groups[1].Value);
    }

    /// <summary><c>loopvol_fsyncs_total</c> by its <c>target</c> label.</summary>
    public static IReadOnlyDictionary<string, long> Fsyncs(string exposition)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in FsyncSample().Matches(exposition))
        {
            counts.Add(m.Groups["target"].Value, long.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
        }
        return counts;
    }

    /// <summary>How far each target's count moved from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static IReadOnlyDictionary<string, long> Moved(IReadOnlyDictionary<string, long> before,
        IReadOnlyDictionary<string, long> after) =>
        after.ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key), StringComparer.Ordinal);

    [GeneratedRegex(@"serving Prometheus metrics on (http://\S+)")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"^loopvol_fsyncs_total\{[^}]*\btarget=""(?<target>[a-z]+)""[^}]*\} (?<value>\d+)", RegexOptions.Multiline)]
    private static partial Regex FsyncSample();
}
