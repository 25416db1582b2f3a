using System.Globalization;

namespace Loopvol.Bench.Startup;

/// <summary>Every measured start of one driver, and the runs that failed.</summary>
internal sealed record StartupResult(string Driver, string Command)
{
    public List<StartupSample> Samples { get; } = [];

    public List<string> Failures { get; } = [];

    public static string Table(IEnumerable<StartupResult> results)
    {
        var lines = new List<string>
        {
            "| driver | runs | exec to Probe p50 ms | p10 | p90 | min | max | idle RSS p50 MiB | min | max | SIGTERM to exit p50 ms | killed |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        };
        var notes = new List<string>();
        foreach (var r in results)
        {
            var probe = r.Samples.Select(s => s.ToProbeMs).ToList();
            var rss = r.Samples.Select(s => s.IdleRssBytes / 1048576.0).ToList();
            var stop = r.Samples.Select(s => s.StopMs).ToList();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Driver} | {r.Samples.Count}{(r.Failures.Count > 0 ? $" ({r.Failures.Count} failed)" : "")} | " +
                $"{P(probe, 50):F1} | {P(probe, 10):F1} | {P(probe, 90):F1} | {P(probe, 0):F1} | {P(probe, 100):F1} | " +
                $"{P(rss, 50):F1} | {P(rss, 0):F1} | {P(rss, 100):F1} | {P(stop, 50):F1} | {r.Samples.Count(s => s.KilledHard)} |"));
            notes.Add($"- {r.Driver}: {r.Command}");
            notes.AddRange(r.Failures.Select(f => $"- {r.Driver} failed: {f}"));
        }
        return string.Join('\n', lines.Append("").Concat(notes));
    }

    private static double P(List<double> samples, double p) => Latencies.Percentile(samples, p);
}
