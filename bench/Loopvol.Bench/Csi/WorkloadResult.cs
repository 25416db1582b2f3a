using System.Globalization;
using System.Text.Json.Serialization;

namespace Loopvol.Bench.Csi;

/// <summary>One measured line: how many calls, their rate and latency percentiles.</summary>
internal sealed record Measurement(string Label, int Calls, double RatePerSecond, double P50Ms, double P90Ms, double P99Ms)
{
    public static Measurement Of(string label, Latencies latencies, TimeSpan elapsed) =>
        new(label, latencies.Count, latencies.Count / Math.Max(elapsed.TotalSeconds, 1e-9), latencies.Percentile(50),
            latencies.Percentile(90), latencies.Percentile(99));
}

/// <summary>What one workload did on one endpoint: measurements and notes, or why it was skipped.</summary>
internal sealed record WorkloadResult(string Workload, string Endpoint)
{
    public List<Measurement> Measurements { get; } = [];

    public List<string> Notes { get; } = [];

    /// <summary>Undo steps that failed after the workload: each leaves something behind on the endpoint.</summary>
    public List<string> CleanupFailures { get; } = [];

    public string? Skipped { get; init; }

    public string? Failed { get; set; }

    [JsonIgnore]
    public bool Ran => Skipped is null && Failed is null;

    public static string Table(IEnumerable<WorkloadResult> results)
    {
        var lines = new List<string>
        {
            "| endpoint | workload | measurement | calls | rate /s | p50 ms | p90 ms | p99 ms |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        };
        var notes = new List<string>();
        foreach (var r in results)
        {
            if (!r.Ran)
            {
                lines.Add($"| {r.Endpoint} | {r.Workload} | {(r.Skipped is { } s ? "skipped: " + s : "FAILED: " + r.Failed)} | | | | | |");
            }
            foreach (var m in r.Measurements)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Endpoint} | {r.Workload} | {m.Label} | {m.Calls} | {m.RatePerSecond:F1} | {m.P50Ms:F2} | {m.P90Ms:F2} | {m.P99Ms:F2} |"));
            }
            notes.AddRange(r.Notes.Select(n => $"- {r.Endpoint} {r.Workload}: {n}"));
            notes.AddRange(r.CleanupFailures.Select(f => $"- {r.Endpoint} {r.Workload}: cleanup failed: {f}"));
        }
        return string.Join('\n', lines.Concat(notes.Count > 0 ? [""] : []).Concat(notes));
    }
}
